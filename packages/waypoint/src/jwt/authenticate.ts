// Istio RequestAuthentication as Envoy's jwt_authn runs it in a waypoint (requires_any of the providers plus
// allow_missing): no token -> the request continues unauthenticated (AuthorizationPolicy decides); a token
// that is present but malformed, from an unconfigured issuer or failing verification -> 401 with Envoy's
// status text; a valid token -> request.auth.* attributes (principal "<iss>/<sub>", audiences, claims).
import { decodeJwt, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { JwtRule } from '../config/types';
import { JwtAuthError } from './errors';
import { findToken, type FoundToken } from './extract';
import type { KeySets } from './keys';

export type JwtOutcome =
  | { readonly kind: 'missing' }
  | { readonly kind: 'failed'; readonly error: JwtAuthError }
  | {
      readonly kind: 'verified';
      /** "<iss>/<sub>", Istio's request principal. */
      readonly principal: string;
      readonly claims: Readonly<Record<string, unknown>>;
      /** Header edits the rule asks for (forwardOriginalToken false, outputPayloadToHeader, claims to headers). */
      readonly removeHeaders: readonly string[];
      readonly setHeaders: Readonly<Record<string, string>>;
    };

export interface JwtRequest {
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** Request target (path and query). */
  readonly url: string;
}

function unverifiedIssuer(token: string): string {
  if (token.split('.').length !== 3) throw new JwtAuthError('malformed');
  let payload: JWTPayload;
  try {
    payload = decodeJwt(token);
  } catch {
    throw new JwtAuthError('malformed');
  }
  return typeof payload.iss === 'string' ? payload.iss : '';
}

function mapJoseError(err: unknown): JwtAuthError {
  if (err instanceof JwtAuthError) return err;
  if (err instanceof joseErrors.JWTExpired) return new JwtAuthError('expired', err);
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return new JwtAuthError('audience', err);
    if (err.claim === 'nbf') return new JwtAuthError('notYetValid', err);
    if (err.claim === 'iss') return new JwtAuthError('unknownIssuer', err);
    return new JwtAuthError('verification', err);
  }
  if (err instanceof joseErrors.JWKSNoMatchingKey) return new JwtAuthError('noKey', err);
  if (err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid) return new JwtAuthError('fetchFailed', err);
  if (err instanceof joseErrors.JOSEError) return new JwtAuthError('verification', err);
  // Network errors from the JWKS fetch (jwks_uri unreachable, non-200).
  return new JwtAuthError('fetchFailed', err);
}

function payloadSegment(token: string): string {
  return token.split('.')[1] ?? '';
}

function claimHeaderValue(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

async function verifyWith(keys: KeySets, rule: JwtRule, found: FoundToken): Promise<JwtOutcome> {
  const getKey = keys.forRule(rule);
  if (getKey instanceof JwtAuthError) return { kind: 'failed', error: getKey };
  let payload: JWTPayload;
  try {
    const opts = rule.audiences.length === 0 ? { issuer: rule.issuer } : { issuer: rule.issuer, audience: [...rule.audiences] };
    ({ payload } = await jwtVerify(found.token, getKey, opts));
  } catch (err) {
    return { kind: 'failed', error: mapJoseError(err) };
  }
  const removeHeaders = !rule.forwardOriginalToken && found.location.kind === 'header' ? [found.location.name] : [];
  const setHeaders: Record<string, string> = {};
  if (rule.outputPayloadToHeader !== '') setHeaders[rule.outputPayloadToHeader.toLowerCase()] = payloadSegment(found.token);
  for (const c of rule.outputClaimToHeaders) {
    const v = claimHeaderValue(payload[c.claim]);
    if (v !== undefined) setHeaders[c.header.toLowerCase()] = v;
  }
  return { kind: 'verified', principal: `${payload.iss ?? ''}/${payload.sub ?? ''}`, claims: payload, removeHeaders, setHeaders };
}

/** Runs the rules against one request. Rules with the token's issuer verify it; the first success wins. */
export async function authenticateJwt(keys: KeySets, rules: readonly JwtRule[], req: JwtRequest): Promise<JwtOutcome> {
  if (rules.length === 0) return { kind: 'missing' };
  const q = req.url.indexOf('?');
  const query = new URLSearchParams(q < 0 ? '' : req.url.slice(q + 1));
  let failure: JwtAuthError | undefined;
  let sawToken = false;
  for (const rule of rules) {
    const found = findToken(rule, req.headers, query);
    if (found === undefined) continue;
    sawToken = true;
    let iss: string;
    try {
      iss = unverifiedIssuer(found.token);
    } catch (err) {
      failure ??= mapJoseError(err);
      continue;
    }
    if (iss !== rule.issuer) continue;
    const r = await verifyWith(keys, rule, found);
    if (r.kind === 'verified') return r;
    if (r.kind === 'failed') failure ??= r.error;
  }
  if (failure !== undefined) return { kind: 'failed', error: failure };
  return sawToken ? { kind: 'failed', error: new JwtAuthError('unknownIssuer') } : { kind: 'missing' };
}
