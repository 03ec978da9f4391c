import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatAuthority, parseAuthority, tryParseAuthority } from './authority';

describe('authority', () => {
  it('parses the three forms', () => {
    expect(parseAuthority('10.1.2.3:8080')).toEqual({ host: '10.1.2.3', port: 8080, isIp: true, family: 4 });
    expect(parseAuthority('[fd00::1]:15008')).toEqual({ host: 'fd00::1', port: 15008, isIp: true, family: 6 });
    expect(parseAuthority('echo.default.svc.cluster.local:80')).toMatchObject({ host: 'echo.default.svc.cluster.local', isIp: false });
  });

  it.each(['', ':80', '10.0.0.1', '10.0.0.1:', '10.0.0.1:0', '10.0.0.1:65536', '[::1]', '[::1:80', 'fd00::1:80', 'a b:80', '[nope]:80', 'h:+1'])(
    'rejects %j with HBONE_BAD_AUTHORITY',
    (bad) => {
      expect(() => parseAuthority(bad)).toThrow(expect.objectContaining({ code: 'HBONE_BAD_AUTHORITY' }));
    },
  );

  it('round-trips any IP and port', () => {
    fc.assert(fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), fc.integer({ min: 1, max: 65535 }), (ip, port) => {
      const parsed = parseAuthority(formatAuthority(ip, port));
      expect(parsed.port).toBe(port);
      expect(parsed.isIp).toBe(true);
      expect(formatAuthority(parsed.host, parsed.port)).toBe(formatAuthority(ip, port));
    }));
  });

  it('round-trips DNS names', () => {
    fc.assert(fc.property(fc.domain(), fc.integer({ min: 1, max: 65535 }), (host, port) => {
      expect(parseAuthority(`${host}:${port}`)).toMatchObject({ host, port });
    }));
  });

  it('never throws anything but HBONE_BAD_AUTHORITY on garbage', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => {
      try {
        parseAuthority(s);
      } catch (err) {
        expect((err as { code?: string }).code).toBe('HBONE_BAD_AUTHORITY');
      }
      expect(() => tryParseAuthority(s)).not.toThrow();
    }), { numRuns: 500 });
  });
});
