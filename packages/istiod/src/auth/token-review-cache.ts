import { createHash } from 'node:crypto';
import type { TokenReviewer, TokenReviewStatus } from './kube-token-review';

/**
 * How long an accepted TokenReview answer is reused. A ztunnel asks for every pod identity on its node with
 * the same projected token, so without a cache each CreateCertificate costs one API-server round trip. Short
 * enough that a deleted service account or pod stops being honoured quickly (the token itself is re-checked
 * after this), and never past the token's own `exp`.
 */
export const TOKEN_REVIEW_CACHE_TTL_MS = 60_000;
/** Bound on cached tokens (one per node agent / proxy in practice); the oldest entry goes first. */
export const TOKEN_REVIEW_CACHE_MAX_ENTRIES = 10_000;
const MS_PER_S = 1000;

export interface TokenReviewCacheOptions {
  ttlMs?: number;
  maxEntries?: number;
  now?: () => number;
}

interface Entry {
  status: TokenReviewStatus;
  expiresAtMs: number;
}

/**
 * Wraps a TokenReviewer with a cache of ACCEPTED reviews keyed by SHA-256(token) and the audiences (the raw
 * token is never kept). Refusals and errors are not cached, so a token that just became valid is accepted on
 * the next call, and concurrent first calls for one token share one review.
 */
export function cachedTokenReviewer(review: TokenReviewer, options: TokenReviewCacheOptions = {}): TokenReviewer {
  const ttlMs = options.ttlMs ?? TOKEN_REVIEW_CACHE_TTL_MS;
  const maxEntries = options.maxEntries ?? TOKEN_REVIEW_CACHE_MAX_ENTRIES;
  const now = options.now ?? Date.now;
  const cache = new Map<string, Entry>();
  const inFlight = new Map<string, Promise<TokenReviewStatus>>();
  return async (token, audiences) => {
    const key = `${createHash('sha256').update(token, 'utf8').digest('base64')}\n${audiences.join('\n')}`;
    const hit = cache.get(key);
    if (hit !== undefined && hit.expiresAtMs > now()) return hit.status;
    if (hit !== undefined) cache.delete(key);
    const pending = inFlight.get(key);
    if (pending !== undefined) return pending;
    const p = review(token, audiences).finally(() => inFlight.delete(key));
    inFlight.set(key, p);
    const status = await p;
    if (status.authenticated === true) {
      const expiresAtMs = Math.min(now() + ttlMs, jwtExpiryMs(token) ?? Number.POSITIVE_INFINITY);
      if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
      cache.set(key, { status, expiresAtMs });
    }
    return status;
  };
}

/** The `exp` claim of a JWT, read without verifying (the API server verified it); undefined if absent. */
export function jwtExpiryMs(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * MS_PER_S : undefined;
  } catch {
    return undefined;
  }
}
