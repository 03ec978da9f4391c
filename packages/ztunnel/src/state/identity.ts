import type { Workload } from '@mesh/api';

/** Defaults ztunnel applies to a Workload (Z:src/state/workload.rs): empty trust domain / service account. */
export const DEFAULT_TRUST_DOMAIN = 'cluster.local';
export const DEFAULT_SERVICE_ACCOUNT = 'default';
const SPIFFE_SCHEME = 'spiffe://';

/** A SPIFFE workload identity, `spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>`. */
export interface SpiffeIdentity {
  readonly trustDomain: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

const identityCache = new WeakMap<Workload, SpiffeIdentity>();

/** The identity a workload's certificate carries (ztunnel `Workload::identity`). Cached per Workload object. */
export function workloadIdentity(wl: Workload): SpiffeIdentity {
  let id = identityCache.get(wl);
  if (id === undefined) {
    id = Object.freeze({
      trustDomain: wl.trustDomain === '' ? DEFAULT_TRUST_DOMAIN : wl.trustDomain,
      namespace: wl.namespace,
      serviceAccount: wl.serviceAccount === '' ? DEFAULT_SERVICE_ACCOUNT : wl.serviceAccount,
    });
    identityCache.set(wl, id);
  }
  return id;
}

/** `spiffe://<td or cluster.local>/ns/<ns>/sa/<sa or default>` for a workload. */
export function identityOf(wl: Workload): string {
  return spiffeUri(workloadIdentity(wl));
}

export function spiffeUri(id: SpiffeIdentity): string {
  return `${SPIFFE_SCHEME}${principalOf(id)}`;
}

/** The identity without `spiffe://` — the form AuthorizationPolicy principals are written in. */
export function principalOf(id: SpiffeIdentity): string {
  return `${id.trustDomain}/ns/${id.namespace}/sa/${id.serviceAccount}`;
}

/**
 * Parse `spiffe://td/ns/<ns>/sa/<sa>`; undefined for anything else. Like ztunnel's `Identity::from_str`, only the
 * exact four-segment path is a workload identity (certificates with other URI SANs are ignored).
 */
export function parseSpiffeUri(uri: string): SpiffeIdentity | undefined {
  if (!uri.startsWith(SPIFFE_SCHEME)) return undefined;
  const parts = uri.slice(SPIFFE_SCHEME.length).split('/');
  if (parts.length !== 5 || parts[1] !== 'ns' || parts[3] !== 'sa') return undefined;
  const [trustDomain, , namespace, , serviceAccount] = parts as [string, string, string, string, string];
  if (trustDomain === '' || namespace === '' || serviceAccount === '') return undefined;
  return { trustDomain, namespace, serviceAccount };
}

export function sameIdentity(a: SpiffeIdentity, b: SpiffeIdentity): boolean {
  return a.trustDomain === b.trustDomain && a.namespace === b.namespace && a.serviceAccount === b.serviceAccount;
}
