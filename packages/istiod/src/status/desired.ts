import { GATEWAY_CLASS, type ResourceKey } from '@mesh/api';
import type { ConfigStore, InvalidResourceReport } from '../config';
import { collectionPath, WATCHED_RESOURCES } from '../config';
import type { StatusCondition } from '../model';

/** A condition istiod owns on an object; lastTransitionTime/observedGeneration are filled in at write time. */
export interface OwnedCondition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
}

/** Condition types this writer owns (others on the same object are left untouched). */
export const OWNED_CONDITION_TYPES: ReadonlySet<string> = new Set(['Accepted', 'Programmed', 'ZtunnelAccepted', 'istio.io/WaypointBound']);

/** Index condition resources (`Kind ns/name`) whose kind has a status subresource we write. */
const INDEX_KINDS: Readonly<Record<string, ResourceKey>> = {
  AuthorizationPolicy: 'security.istio.io/AuthorizationPolicy',
  ServiceEntry: 'networking.istio.io/ServiceEntry',
};

export function objectPath(key: ResourceKey, namespace: string, name: string): string | undefined {
  const res = WATCHED_RESOURCES.find((r) => r.key === key);
  if (res === undefined) return undefined;
  const base = collectionPath(res);
  if (!res.namespaced) return `${base}/${encodeURIComponent(name)}`;
  const i = base.lastIndexOf('/');
  return `${base.slice(0, i)}/namespaces/${encodeURIComponent(namespace)}${base.slice(i)}/${encodeURIComponent(name)}`;
}

/** `Kind ns/name` -> [ns, name]. */
function splitLabel(label: string): [string, string] | undefined {
  const m = /^\S+ ([^/\s]+)\/(\S+)$/.exec(label);
  return m ? [m[1] as string, m[2] as string] : undefined;
}

function add(out: Map<string, OwnedCondition[]>, path: string | undefined, c: OwnedCondition): void {
  if (path === undefined) return;
  const list = out.get(path) ?? [];
  out.set(path, [...list.filter((x) => x.type !== c.type), c]);
}

/**
 * Invalid Istio objects (the CRD schema admitted them, our validator did not): Accepted=False naming every
 * field path, since Istio's webhook would have refused them and nothing of them is in effect.
 */
function invalidConditions(out: Map<string, OwnedCondition[]>, reports: readonly InvalidResourceReport[]): void {
  for (const r of reports) {
    const key = r.source?.startsWith('kube:') ? (r.source.slice('kube:'.length) as ResourceKey) : undefined;
    const at = splitLabel(r.resource);
    if (key === undefined || at === undefined || !key.includes('.istio.io/')) continue;
    const message = r.issues.map((i) => `${i.path}: ${i.message}`).join('; ');
    add(out, objectPath(key, at[0], at[1]), { type: 'Accepted', status: 'False', reason: 'Invalid', message: `ignored by istiod: ${message}` });
  }
}

function indexConditions(out: Map<string, OwnedCondition[]>, conds: readonly StatusCondition[]): void {
  for (const c of conds) {
    const kind = c.resource.slice(0, c.resource.indexOf(' '));
    const key = INDEX_KINDS[kind];
    const at = splitLabel(c.resource);
    if (key === undefined || at === undefined) continue;
    // Istio names the ambient binding condition istio.io/WaypointBound on Services and ServiceEntries.
    const type = c.type === 'WaypointBound' ? 'istio.io/WaypointBound' : c.type;
    add(out, objectPath(key, at[0], at[1]), { type, status: c.status, reason: c.reason, message: c.message });
  }
}

/**
 * Waypoint Gateways (class istio-waypoint) are ours: Accepted, and Programmed once the waypoint Service
 * (same name and namespace, as Istio's gateway deployment controller creates) has a cluster IP.
 */
function gatewayConditions(out: Map<string, OwnedCondition[]>, store: ConfigStore): void {
  for (const gw of store.list('gateway.networking.k8s.io/Gateway')) {
    if (gw.spec.gatewayClassName !== GATEWAY_CLASS.WAYPOINT) continue;
    const ns = gw.metadata.namespace ?? '';
    const path = objectPath('gateway.networking.k8s.io/Gateway', ns, gw.metadata.name);
    add(out, path, { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'resource accepted by istiod as a waypoint' });
    const svc = store.get('Service', ns, gw.metadata.name);
    const ip = svc?.spec?.clusterIP;
    const programmed = ip !== undefined && ip !== '' && ip !== 'None';
    add(out, path, programmed
      ? { type: 'Programmed', status: 'True', reason: 'Programmed', message: `waypoint Service ${ns}/${gw.metadata.name} has address ${ip}` }
      : { type: 'Programmed', status: 'False', reason: 'AddressNotAssigned', message: `waiting for Service ${ns}/${gw.metadata.name} with a cluster IP` });
  }
}

/** Everything istiod wants written, by object API path. */
export function desiredStatus(store: ConfigStore, conditions: readonly StatusCondition[]): Map<string, OwnedCondition[]> {
  const out = new Map<string, OwnedCondition[]>();
  invalidConditions(out, store.invalidResources());
  indexConditions(out, conditions);
  gatewayConditions(out, store);
  return out;
}
