import { describe, expect, it } from 'vitest';
import { pickWeighted } from './weighted';

function seeded(seed: number): () => number {
  // mulberry32: small deterministic PRNG for reproducible statistical tests.
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('pickWeighted', () => {
  const split = [
    { name: 'v1', weight: 90 },
    { name: 'v2', weight: 10 },
  ];

  it('maps rand() onto cumulative weights', () => {
    expect(pickWeighted(split, () => 0)?.name).toBe('v1');
    expect(pickWeighted(split, () => 0.899)?.name).toBe('v1');
    expect(pickWeighted(split, () => 0.9)?.name).toBe('v2');
    expect(pickWeighted(split, () => 0.99999999)?.name).toBe('v2');
  });

  it('a 90/10 split over 10,000 picks stays within 4 sigma', () => {
    const rand = seeded(7);
    let v2 = 0;
    const N = 10_000;
    for (let i = 0; i < N; i++) if (pickWeighted(split, rand)?.name === 'v2') v2++;
    const sigma = Math.sqrt(N * 0.1 * 0.9);
    expect(Math.abs(v2 - N * 0.1)).toBeLessThan(4 * sigma);
  });

  it('never picks zero-weight destinations and returns undefined when all are zero', () => {
    const ds = [
      { name: 'a', weight: 0 },
      { name: 'b', weight: 5 },
      { name: 'c', weight: 0 },
    ];
    for (const r of [0, 0.5, 0.9999]) expect(pickWeighted(ds, () => r)?.name).toBe('b');
    expect(pickWeighted([{ weight: 0 }], () => 0)).toBeUndefined();
    expect(pickWeighted([], () => 0)).toBeUndefined();
  });
});
