import { AuthUnauthenticatedError } from './errors';
import type { AuthCall, Authenticator } from './types';

const BEARER_PREFIX = 'bearer ';
export const AUTHORIZATION_HEADER = 'authorization';
/** Header ztunnel sets from ISTIO_META_CLUSTER_ID so istiod picks the cluster that can validate the token. */
export const CLUSTER_ID_HEADER = 'clusterid';

/** The token of `authorization: Bearer <token>`; the scheme is case-insensitive as in Istio's ExtractBearerToken. */
export function bearerTokenOf(call: AuthCall): string {
  const values = call.metadata.get(AUTHORIZATION_HEADER);
  for (const v of values) {
    if (typeof v !== 'string') continue;
    if (v.slice(0, BEARER_PREFIX.length).toLowerCase() !== BEARER_PREFIX) continue;
    const token = v.slice(BEARER_PREFIX.length).trim();
    if (token !== '') return token;
  }
  throw new AuthUnauthenticatedError({ peer: call.peer, reason: 'no "authorization: Bearer <token>" header' });
}

/**
 * Rejects calls whose `clusterid` names another cluster. Istio's kube JWT authenticator picks the cluster's
 * TokenReview client by this header and fails when it does not know the cluster; with one cluster, a
 * missing header means the local one.
 */
export function withClusterCheck(clusterId: string, inner: Authenticator): Authenticator {
  return async (call) => {
    const header = call.metadata.get(CLUSTER_ID_HEADER)[0];
    if (typeof header === 'string' && header !== '' && header !== clusterId) {
      throw new AuthUnauthenticatedError({
        peer: call.peer,
        reason: `clusterid header "${header}" does not match this istiod's CLUSTER_ID "${clusterId}"`,
      });
    }
    return inner(call);
  };
}
