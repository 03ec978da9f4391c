import { SpiffeIdError } from '../errors';

/** A workload identity as Istio encodes it in SPIFFE: spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>. */
export interface Identity {
  readonly trustDomain: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

export const SPIFFE_SCHEME = 'spiffe://';
export const DEFAULT_TRUST_DOMAIN = 'cluster.local';

// SPIFFE ID spec: trust domain is lowercase letters, digits, '.', '-', '_'; path segments add uppercase.
const TRUST_DOMAIN_RE = /^[a-z0-9._-]+$/;
const SEGMENT_RE = /^[A-Za-z0-9._-]+$/;
const MAX_SPIFFE_ID_LENGTH = 2048;

/** Parse `spiffe://td/ns/<ns>/sa/<sa>`; throws SpiffeIdError (IDENTITY_INVALID_SPIFFE_ID) when malformed. */
export function parseSpiffeId(value: string): Identity {
  if (!value.startsWith(SPIFFE_SCHEME)) throw new SpiffeIdError({ value, reason: 'missing spiffe:// scheme' });
  return parsePrincipal(value.slice(SPIFFE_SCHEME.length), value);
}

/**
 * Parse the scheme-less form `td/ns/<ns>/sa/<sa>` used in AuthorizationPolicy principals (ztunnel compares
 * principals against the identity without `spiffe://`).
 */
export function parsePrincipal(principal: string, original = principal): Identity {
  if (original.length > MAX_SPIFFE_ID_LENGTH) throw new SpiffeIdError({ value: original, reason: 'longer than 2048 bytes' });
  const parts = principal.split('/');
  // Mirrors ztunnel's Identity::from_str: exactly td / "ns" / ns / "sa" / sa.
  if (parts.length !== 5 || parts[1] !== 'ns' || parts[3] !== 'sa') {
    throw new SpiffeIdError({ value: original, reason: 'path must be /ns/<namespace>/sa/<service-account>' });
  }
  const [trustDomain = '', , namespace = '', , serviceAccount = ''] = parts;
  if (!TRUST_DOMAIN_RE.test(trustDomain)) {
    throw new SpiffeIdError({ value: original, reason: 'trust domain must be non-empty [a-z0-9._-]' });
  }
  for (const seg of [namespace, serviceAccount]) {
    if (!SEGMENT_RE.test(seg) || seg === '.' || seg === '..') {
      throw new SpiffeIdError({ value: original, reason: `path segment ${JSON.stringify(seg)} must be non-empty [A-Za-z0-9._-]` });
    }
  }
  return { trustDomain, namespace, serviceAccount };
}

/** Non-throwing parse for places that must skip foreign URI SANs (ztunnel ignores unparsable ones). */
export function tryParseSpiffeId(value: string): Identity | undefined {
  try {
    return parseSpiffeId(value);
  } catch {
    return undefined;
  }
}

export function formatSpiffeId(id: Identity): string {
  return SPIFFE_SCHEME + toPrincipal(id);
}

/** `td/ns/<ns>/sa/<sa>`: the form ztunnel's RBAC matches `principals` against. */
export function toPrincipal(id: Identity): string {
  return `${id.trustDomain}/ns/${id.namespace}/sa/${id.serviceAccount}`;
}

/** Build an identity, validating each part (service account defaults to "default", as for an empty WDS field). */
export function makeIdentity(trustDomain: string, namespace: string, serviceAccount = 'default'): Identity {
  const id = { trustDomain: trustDomain === '' ? DEFAULT_TRUST_DOMAIN : trustDomain, namespace, serviceAccount };
  return parsePrincipal(toPrincipal(id));
}

export function identityEquals(a: Identity, b: Identity): boolean {
  return a.trustDomain === b.trustDomain && a.namespace === b.namespace && a.serviceAccount === b.serviceAccount;
}

/**
 * Compare a principal string with an identity the way ztunnel's RBAC does: both without the scheme;
 * a principal given with `spiffe://` is accepted too.
 */
export function principalMatches(principal: string, id: Identity): boolean {
  const p = principal.startsWith(SPIFFE_SCHEME) ? principal.slice(SPIFFE_SCHEME.length) : principal;
  return p === toPrincipal(id);
}
