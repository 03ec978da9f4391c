import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatBaggage, parseBaggage, type BaggageInfo } from './baggage';
import { formatForwarded, parseForwarded } from './forwarded';
import { formatTraceparent, newTraceparent, parseTraceparent } from './traceparent';

const garbage = fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: fc.constantFrom('=', ';', ',', '"', '[', ']', ':', 'a', '1', ' ', '\\') }));

describe('forwarded', () => {
  it('formats as ztunnel does, bracketing and quoting IPv6', () => {
    expect(formatForwarded('10.0.0.1', 5000)).toBe('for="10.0.0.1:5000"');
    expect(formatForwarded('fd00::1', 5000, 'svc.ns.svc.cluster.local')).toBe('for="[fd00::1]:5000";host=svc.ns.svc.cluster.local');
  });

  it('round-trips', () => {
    fc.assert(fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), fc.integer({ min: 0, max: 65535 }), fc.option(fc.domain(), { nil: undefined }),
      (ip, port, host) => {
        const parsed = parseForwarded(formatForwarded(ip, port, host));
        expect(parsed.forIp).toBe(ip);
        expect(parsed.forPort).toBe(port);
        expect(parsed.host).toBe(host);
      }));
  });

  it('never throws on garbage', () => {
    fc.assert(fc.property(garbage, (s) => {
      expect(typeof parseForwarded(s)).toBe('object');
    }), { numRuns: 500 });
    expect(parseForwarded(undefined)).toEqual({});
  });
});

describe('traceparent', () => {
  it('generates valid, distinct values', () => {
    const a = newTraceparent();
    expect(a).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    expect(parseTraceparent(a)).toBeDefined();
    expect(newTraceparent()).not.toBe(a);
  });

  it('stays valid and distinct across refills of its random pool', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2_000; i++) {
      const tp = newTraceparent();
      expect(parseTraceparent(tp)).toBeDefined();
      seen.add(tp.slice(3, 35));
      seen.add(tp.slice(36, 52));
    }
    expect(seen.size).toBe(4_000);
  });

  it('round-trips', () => {
    const hex = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: n, maxLength: n });
    fc.assert(fc.property(hex(32), hex(16), hex(2), (traceId, spanId, flags) => {
      fc.pre(/[1-9a-f]/.test(traceId) && /[1-9a-f]/.test(spanId));
      const tp = { version: '00', traceId, spanId, flags };
      expect(parseTraceparent(formatTraceparent(tp))).toEqual(tp);
    }));
  });

  it('rejects invalid ones and never throws', () => {
    expect(parseTraceparent(`00-${'0'.repeat(32)}-${'1'.repeat(16)}-00`)).toBeUndefined();
    expect(parseTraceparent(`ff-${'1'.repeat(32)}-${'1'.repeat(16)}-00`)).toBeUndefined();
    expect(parseTraceparent(`00-${'1'.repeat(32)}-${'1'.repeat(16)}-00-extra`)).toBeUndefined();
    fc.assert(fc.property(garbage, (s) => {
      expect(() => parseTraceparent(s)).not.toThrow();
    }), { numRuns: 500 });
  });
});

describe('baggage', () => {
  it('formats only present keys in ztunnel order', () => {
    expect(formatBaggage({ namespace: 'ns', workloadKind: 'deployment', workloadName: 'web', serviceName: 'web' }))
      .toBe('k8s.namespace.name=ns,k8s.deployment.name=web,service.name=web');
    expect(formatBaggage({})).toBe('');
  });

  it('round-trips', () => {
    const value = fc.option(fc.string({ minLength: 1 }), { nil: undefined });
    const info = fc.record({
      clusterId: value, namespace: value, workloadKind: fc.option(fc.constantFrom('deployment', 'cronjob', 'pod', 'job'), { nil: undefined }),
      workloadName: value, serviceName: value, serviceVersion: value, region: value, zone: value,
    });
    fc.assert(fc.property(info, (raw) => {
      const expected = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)) as BaggageInfo;
      if (!expected.workloadKind || !expected.workloadName) {
        delete expected.workloadKind;
        delete expected.workloadName;
      }
      expect(parseBaggage(formatBaggage(raw))).toEqual(expected);
    }));
  });

  it('never throws on garbage', () => {
    fc.assert(fc.property(garbage, (s) => {
      expect(typeof parseBaggage(s)).toBe('object');
    }), { numRuns: 500 });
    expect(parseBaggage('k8s.namespace.name=%E0%A4%A,service.name=ok')).toEqual({ serviceName: 'ok' });
  });
});
