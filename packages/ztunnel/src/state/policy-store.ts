// Authorization policies by key and by namespace, as Z:src/state/policy.rs `PolicyStore`: NAMESPACE-scoped
// policies are indexed under their namespace, GLOBAL ones under "" (they come from the root namespace and apply
// everywhere), WORKLOAD_SELECTOR ones only by key (workloads list them in `authorization_policies`).
import { security, type Authorization } from '@mesh/api';
import { InvalidResourceError } from './errors';

/** Index key of GLOBAL policies in the by-namespace map (ztunnel uses the empty namespace). */
export const GLOBAL_POLICY_NAMESPACE = '';
const EMPTY_KEYS: ReadonlySet<string> = new Set();

/** `namespace/name` — ztunnel's `Authorization::to_key` and the xDS resource name. */
export function policyKey(p: Pick<Authorization, 'namespace' | 'name'>): string {
  return `${p.namespace}/${p.name}`;
}

function indexNamespace(p: Authorization): string | undefined {
  switch (p.scope) {
    case security.Scope.GLOBAL:
      return GLOBAL_POLICY_NAMESPACE;
    case security.Scope.NAMESPACE:
      return p.namespace;
    default:
      return undefined;
  }
}

/** Reject what ztunnel's `TryFrom<XdsRbac>` rejects: scope/action values outside the enums. */
export function validateAuthorization(p: Authorization): void {
  if (!Object.values(security.Scope).includes(p.scope)) {
    throw new InvalidResourceError(`authorization ${policyKey(p)} has unknown scope ${p.scope}`);
  }
  if (!Object.values(security.Action).includes(p.action)) {
    throw new InvalidResourceError(`authorization ${policyKey(p)} has unknown action ${p.action}`);
  }
}

export class PolicyStore {
  private readonly byKey = new Map<string, Authorization>();
  private readonly byNamespace = new Map<string, Set<string>>();

  get size(): number {
    return this.byKey.size;
  }

  get(key: string): Authorization | undefined {
    return this.byKey.get(key);
  }

  /** Keys of policies indexed under `namespace` ("" = GLOBAL). Live view: do not mutate. */
  keysForNamespace(namespace: string): ReadonlySet<string> {
    return this.byNamespace.get(namespace) ?? EMPTY_KEYS;
  }

  values(): IterableIterator<Authorization> {
    return this.byKey.values();
  }

  /** Insert or replace; returns the key. The caller has validated the policy. */
  insert(p: Authorization): string {
    const key = policyKey(p);
    this.remove(key);
    const ns = indexNamespace(p);
    if (ns !== undefined) {
      let set = this.byNamespace.get(ns);
      if (set === undefined) this.byNamespace.set(ns, (set = new Set()));
      set.add(key);
    }
    this.byKey.set(key, p);
    return key;
  }

  remove(key: string): boolean {
    const old = this.byKey.get(key);
    if (old === undefined) return false;
    this.byKey.delete(key);
    const ns = indexNamespace(old);
    const set = ns === undefined ? undefined : this.byNamespace.get(ns);
    if (set !== undefined && ns !== undefined) {
      set.delete(key);
      if (set.size === 0) this.byNamespace.delete(ns);
    }
    return true;
  }

  clear(): void {
    this.byKey.clear();
    this.byNamespace.clear();
  }
}
