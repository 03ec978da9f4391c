import { formatSpiffeId, makeIdentity } from '@mesh/identity';
import type { XdsAuthenticator } from '../xds';
import type { Authenticator } from './types';

/**
 * The SAME authenticator guards xDS and the CA (Istio's discovery server authenticates with the CA's
 * authenticators). The xDS principal is the caller's SPIFFE id, so /debug/syncz and logs show who is connected.
 */
export function xdsAuthenticatorOf(auth: Authenticator, trustDomain: string): XdsAuthenticator {
  return async (req) => {
    const caller = await auth({ metadata: req.metadata, peer: req.peer });
    return { identity: formatSpiffeId(makeIdentity(trustDomain, caller.namespace, caller.serviceAccount)), method: caller.method };
  };
}
