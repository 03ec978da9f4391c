import { parseSpiffeId, type Identity } from '@mesh/identity';
import type { CallerIdentity } from '../auth';
import { CaImpersonationDeniedError } from './errors';
import type { NodePodIndex } from './node-pod-index';

/** Istio chart default for CA_TRUSTED_NODE_ACCOUNTS: `<istio namespace>/ztunnel`. */
export const DEFAULT_TRUSTED_NODE_ACCOUNTS: readonly string[] = ['istio-system/ztunnel'];

export interface NodeAuthorizerOptions {
  /** `namespace/serviceAccount` entries allowed to impersonate (CA_TRUSTED_NODE_ACCOUNTS). */
  trustedNodeAccounts: readonly string[];
  index: NodePodIndex;
  trustDomain: string;
}

/**
 * Decides impersonation the way istiod's node authorizer does (security/pkg/server/ca/node_auth.go): the
 * caller's SA must be a trusted node account, the caller must be tied to a node, and some non-Failed pod
 * running as the requested ns/sa must be on that node. Returns the identity to certify.
 */
export class NodeAuthorizer {
  private readonly trusted: ReadonlySet<string>;

  constructor(private readonly options: NodeAuthorizerOptions) {
    this.trusted = new Set(options.trustedNodeAccounts.map((s) => s.trim()).filter((s) => s !== ''));
  }

  authorize(caller: CallerIdentity, impersonated: string): Identity {
    const who = `${caller.namespace}/${caller.serviceAccount}`;
    const deny = (reason: string): never => {
      throw new CaImpersonationDeniedError({ caller: who, requested: impersonated, reason });
    };
    let target: Identity;
    try {
      target = parseSpiffeId(impersonated);
    } catch (err) {
      return deny(`ImpersonatedIdentity is not a SPIFFE id (${err instanceof Error ? err.message : String(err)})`);
    }
    if (target.trustDomain !== this.options.trustDomain) {
      return deny(`trust domain ${target.trustDomain} is not this mesh's (${this.options.trustDomain})`);
    }
    if (!this.trusted.has(who)) {
      return deny(`${who} is not in CA_TRUSTED_NODE_ACCOUNTS [${[...this.trusted].join(', ')}]`);
    }
    if (caller.nodeName === undefined || caller.nodeName === '') {
      return deny('the caller is not bound to a node (its token carries no pod/node)');
    }
    if (!this.options.index.hasPodWithIdentityOnNode(caller.nodeName, target.namespace, target.serviceAccount)) {
      return deny(`no running pod with service account ${target.namespace}/${target.serviceAccount} is on node ${caller.nodeName}`);
    }
    return target;
  }
}
