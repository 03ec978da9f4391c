import { describe, expect, it } from 'vitest';
import { newTraceparent, randomHex } from './ids';

describe('randomHex', () => {
  it('returns distinct lowercase hex ids of the asked size across pool refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const id = randomHex(16);
      expect(id).toMatch(/^[0-9a-f]{32}$/);
      seen.add(id);
    }
    expect(seen.size).toBe(1000);
  });

  it('builds W3C traceparents', () => {
    expect(newTraceparent()).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
  });
});
