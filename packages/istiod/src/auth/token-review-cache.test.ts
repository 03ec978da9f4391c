import { describe, expect, it } from 'vitest';
import type { TokenReviewStatus } from './kube-token-review';
import { cachedTokenReviewer, jwtExpiryMs } from './token-review-cache';

const ok: TokenReviewStatus = { authenticated: true, user: { username: 'system:serviceaccount:istio-system:ztunnel' } };
const jwt = (claims: object): string => `h.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.s`;

function counting(answer: (token: string) => TokenReviewStatus): { review: (t: string, a: readonly string[]) => Promise<TokenReviewStatus>; calls: string[] } {
  const calls: string[] = [];
  return { calls, review: async (t) => (calls.push(t), answer(t)) };
}

describe('cachedTokenReviewer', () => {
  it('reuses an accepted review until the TTL passes, per token and audiences', async () => {
    let t = 1_000;
    const r = counting(() => ok);
    const cached = cachedTokenReviewer(r.review, { ttlMs: 100, now: () => t });
    expect(await cached('a', ['istio-ca'])).toEqual(ok);
    expect(await cached('a', ['istio-ca'])).toEqual(ok);
    expect(await cached('b', ['istio-ca'])).toEqual(ok);
    expect(await cached('a', ['other'])).toEqual(ok);
    expect(r.calls).toEqual(['a', 'b', 'a']);
    t += 101;
    await cached('a', ['istio-ca']);
    expect(r.calls).toEqual(['a', 'b', 'a', 'a']);
  });

  it('never caches a refusal', async () => {
    let accept = false;
    const r = counting(() => (accept ? ok : { authenticated: false, error: 'nope' }));
    const cached = cachedTokenReviewer(r.review);
    expect((await cached('a', ['istio-ca'])).authenticated).toBe(false);
    accept = true;
    expect((await cached('a', ['istio-ca'])).authenticated).toBe(true);
    expect(r.calls).toHaveLength(2);
  });

  it('does not reuse a review past the token exp claim', async () => {
    let t = 10_000;
    const r = counting(() => ok);
    const cached = cachedTokenReviewer(r.review, { ttlMs: 60_000, now: () => t });
    const token = jwt({ exp: 12 }); // 12 s = 12_000 ms
    await cached(token, ['istio-ca']);
    t = 11_000;
    await cached(token, ['istio-ca']);
    t = 12_500;
    await cached(token, ['istio-ca']);
    expect(r.calls).toHaveLength(2);
  });

  it('shares one review between concurrent first calls and evicts the oldest past maxEntries', async () => {
    const r = counting(() => ok);
    const cached = cachedTokenReviewer(r.review, { maxEntries: 2 });
    await Promise.all([cached('a', []), cached('a', []), cached('a', [])]);
    expect(r.calls).toEqual(['a']);
    await cached('b', []);
    await cached('c', []);
    await cached('a', []);
    expect(r.calls).toEqual(['a', 'b', 'c', 'a']);
  });

  it('reads exp from a JWT payload and ignores opaque tokens', () => {
    expect(jwtExpiryMs(jwt({ exp: 5 }))).toBe(5_000);
    expect(jwtExpiryMs('opaque')).toBeUndefined();
    expect(jwtExpiryMs('a.!!!.b')).toBeUndefined();
  });
});
