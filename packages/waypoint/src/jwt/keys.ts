// JWKS resolution for JWT rules: inline `jwks` parsed once, `jwks_uri` fetched through jose's remote key set
// (cached, refreshed when the cache age passes, one fetch at a time, bounded by a timeout), and neither set:
// the issuer's OpenID discovery document names the jwks_uri, as Istio resolves it
// (I:pilot/pkg/model/jwks_resolver.go resolveJwksURIUsingOpenID). Key sets are cached by their source so a
// config push does not refetch (Envoy's JWKS cache behaves the same).
import { createLocalJWKSet, createRemoteJWKSet, customFetch, type FetchImplementation, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { JwtRule } from '../config/types';
import { JwtAuthError } from './errors';

/** Istio's PILOT_JWT_PUB_KEY_REFRESH_INTERVAL default (20 minutes). */
export const JWKS_REFRESH_INTERVAL_MS = 20 * 60_000;
/** Envoy's default remote JWKS fetch timeout is 1 s; Istio raises it to 5 s. */
export const JWKS_FETCH_TIMEOUT_MS = 5_000;
/** Minimum spacing of refetches triggered by an unknown kid. */
export const JWKS_COOLDOWN_MS = 30_000;
/** A failed discovery is not looked up again sooner than this (Envoy's jwks_async_fetch failed_refetch_duration default). */
export const DISCOVERY_FAILED_REFETCH_MS = 1_000;
/** OpenID Connect Discovery 1.0: the document lives at the issuer + this path (issuer without trailing slash). */
export const OPENID_DISCOVERY_PATH = '/.well-known/openid-configuration';

export interface KeySetOptions {
  /** Injected fetch for jwks_uri (tests); defaults to the global fetch. */
  fetch?: FetchImplementation;
  refreshIntervalMs?: number;
  fetchTimeoutMs?: number;
  /** Default DISCOVERY_FAILED_REFETCH_MS. */
  failedRefetchMs?: number;
}

/** jose passes an abort signal, but an injected fetch may ignore it: the timeout is enforced here too. */
function boundedFetch(inner: FetchImplementation, timeoutMs: number): FetchImplementation {
  return (url, options) => {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new JwtAuthError('fetchFailed')), timeoutMs);
    });
    return Promise.race([inner(url, options), expired]).finally(() => clearTimeout(timer));
  };
}

export class KeySets {
  private readonly byInline = new Map<string, JWTVerifyGetKey | JwtAuthError>();
  private readonly byUri = new Map<string, JWTVerifyGetKey>();
  private readonly byIssuer = new Map<string, JWTVerifyGetKey>();

  constructor(private readonly opts: KeySetOptions = {}) {}

  /** The key resolver for a rule, or a JwtAuthError when the rule has no usable key source. */
  forRule(rule: JwtRule): JWTVerifyGetKey | JwtAuthError {
    if (rule.jwks !== '') return this.inline(rule.jwks);
    if (rule.jwksUri !== '') return this.remote(rule.jwksUri, rule.jwksFetchTimeoutMs);
    if (/^https?:\/\//.test(rule.issuer)) return this.discovered(rule.issuer, rule.jwksFetchTimeoutMs);
    return new JwtAuthError('noKey');
  }

  /**
   * Key set behind the issuer's discovery document. A failed lookup fails the tokens that wait on it and is
   * tried again by the first token after failedRefetchMs; tokens before that get the same failure at once, so
   * a broken issuer is not fetched once per request.
   */
  private discovered(issuer: string, ruleTimeoutMs: number): JWTVerifyGetKey {
    let ks = this.byIssuer.get(issuer);
    if (ks === undefined) {
      let remote: Promise<JWTVerifyGetKey> | undefined;
      let failedAt: number | undefined;
      const refetchMs = this.opts.failedRefetchMs ?? DISCOVERY_FAILED_REFETCH_MS;
      ks = async (header, token) => {
        if (remote === undefined || (failedAt !== undefined && performance.now() - failedAt >= refetchMs)) {
          failedAt = undefined;
          const attempt = this.discoverJwksUri(issuer, ruleTimeoutMs).then((uri) => this.remote(uri, ruleTimeoutMs));
          remote = attempt;
          // Any failure, including a jwks_uri jose cannot use, stands until the refetch time has passed.
          attempt.catch(() => {
            if (remote === attempt) failedAt = performance.now();
          });
        }
        return (await remote)(header, token);
      };
      this.byIssuer.set(issuer, ks);
    }
    return ks;
  }

  private async discoverJwksUri(issuer: string, ruleTimeoutMs: number): Promise<string> {
    const timeoutMs = this.timeoutMs(ruleTimeoutMs);
    const url = issuer.replace(/\/+$/, '') + OPENID_DISCOVERY_PATH;
    const get = boundedFetch(this.opts.fetch ?? fetch, timeoutMs);
    const res = await get(url, { headers: new Headers(), method: 'GET', redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) throw new JwtAuthError('fetchFailed', new Error(`${url} answered ${res.status}`));
    const doc = (await res.json()) as { jwks_uri?: unknown };
    if (typeof doc.jwks_uri !== 'string' || !URL.canParse(doc.jwks_uri)) throw new JwtAuthError('fetchFailed', new Error(`${url} names no usable jwks_uri: ${JSON.stringify(doc.jwks_uri)}`));
    return doc.jwks_uri;
  }

  /** The rule's fetch timeout, else the configured one, else the default. */
  private timeoutMs(ruleTimeoutMs: number): number {
    return ruleTimeoutMs || this.opts.fetchTimeoutMs || JWKS_FETCH_TIMEOUT_MS;
  }

  private inline(json: string): JWTVerifyGetKey | JwtAuthError {
    let ks = this.byInline.get(json);
    if (ks === undefined) {
      try {
        ks = createLocalJWKSet(JSON.parse(json) as JSONWebKeySet);
      } catch (err) {
        ks = new JwtAuthError('badJwks', err);
      }
      this.byInline.set(json, ks);
    }
    return ks;
  }

  private remote(uri: string, ruleTimeoutMs: number): JWTVerifyGetKey {
    let ks = this.byUri.get(uri);
    if (ks === undefined) {
      const timeoutMs = this.timeoutMs(ruleTimeoutMs);
      ks = createRemoteJWKSet(new URL(uri), {
        timeoutDuration: timeoutMs,
        cacheMaxAge: this.opts.refreshIntervalMs ?? JWKS_REFRESH_INTERVAL_MS,
        cooldownDuration: JWKS_COOLDOWN_MS,
        [customFetch]: boundedFetch(this.opts.fetch ?? fetch, timeoutMs),
      });
      this.byUri.set(uri, ks);
    }
    return ks;
  }
}
