import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalIp, formatIp, parseIp } from './ip';

// The straightforward definition the fast parser must agree with: four dot-separated groups of 1-3 digits, each <= 255.
function referenceV4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

const v4ish = fc.oneof(
  fc.tuple(fc.nat(300), fc.nat(300), fc.nat(300), fc.nat(300)).map((t) => t.join('.')),
  fc.array(fc.constantFrom('0', '1', '2', '5', '9', '.', '00', '255', '256', '-', ' ', 'a', ':'), { maxLength: 12 }).map((a) => a.join('')),
  fc.string({ maxLength: 16 }),
);

describe('parseIp (IPv4)', () => {
  it('agrees with the reference definition on any input without a colon', () => {
    fc.assert(
      fc.property(v4ish.filter((s) => !s.includes(':')), (s) => {
        const got = parseIp(s);
        const want = referenceV4(s);
        expect(got === undefined ? undefined : [...got]).toEqual(want);
      }),
      { numRuns: 5000 },
    );
  });

  it('rejects the edge cases by name', () => {
    for (const bad of ['', '.', '1.2.3', '1.2.3.4.5', '1..2.3', '.1.2.3', '1.2.3.', '1.2.3.256', '1.2.3.1234', '1.2.3.4 ', '+1.2.3.4']) {
      expect(parseIp(bad), bad).toBeUndefined();
    }
    expect([...parseIp('010.0.0.255')!]).toEqual([10, 0, 0, 255]);
  });
});

describe('canonicalIp', () => {
  it('folds v4-mapped IPv6, compresses IPv6, and caches without changing answers', () => {
    for (let round = 0; round < 2; round++) {
      expect(canonicalIp('::ffff:10.0.0.1')).toBe('10.0.0.1');
      expect(canonicalIp('2001:0db8:0:0:0:0:0:1')).toBe('2001:db8::1');
      expect(canonicalIp('10.1.2.3')).toBe('10.1.2.3');
      expect(canonicalIp('not-an-ip')).toBeUndefined();
    }
  });

  it('stays correct past the cache bound', () => {
    for (let i = 0; i < 5000; i++) {
      const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      expect(canonicalIp(ip)).toBe(ip);
    }
    expect(formatIp(parseIp('10.0.19.135')!)).toBe('10.0.19.135');
  });
});
