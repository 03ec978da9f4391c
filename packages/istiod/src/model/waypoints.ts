import {
  create,
  GATEWAY_CLASS,
  GATEWAY_MANAGED_WAYPOINT,
  LABELS,
  USE_WAYPOINT_NONE,
  WAYPOINT_FOR,
  workload,
  type Gateway,
  type GatewayClass,
  type LabelSelector,
  type Namespace,
  type ObjectMeta,
} from '@mesh/api';
import { parseIp } from './ip';
import { labelSelectorMatches } from './labels';
import { serviceHostname, type MeshOptions } from './options';
import type { StatusCondition } from './conditions';

export const HBONE_MTLS_PORT = 15008;

/** A Gateway that acts as a waypoint, reduced to what bindings need (I:.../ambient/waypoints.go Waypoint). */
export interface Waypoint {
  readonly namespace: string;
  readonly name: string;
  readonly address: workload.GatewayAddress;
  /** service | workload | all | none. */
  readonly trafficType: string;
  readonly allowedFrom: 'All' | 'Same' | 'Selector';
  readonly allowedSelector?: LabelSelector;
}

export function waypointKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/**
 * Istio treats a Gateway as a waypoint once its status has addresses. In directory mode nothing writes
 * status, so a Gateway of class istio-waypoint also counts; its address then falls back to the hostname
 * of the Service istiod deploys for it (`<gateway>.<ns>.svc.<suffix>`).
 */
export function waypointFromGateway(gw: Gateway, gwClass: GatewayClass | undefined, opts: MeshOptions): Waypoint | undefined {
  const statusAddrs = gw.status?.addresses ?? [];
  if (statusAddrs.length === 0 && gw.spec.gatewayClassName !== GATEWAY_CLASS.WAYPOINT) return undefined;
  const namespace = gw.metadata.namespace ?? '';
  const trafficType = gw.metadata.labels?.[LABELS.WAYPOINT_FOR] ?? gwClass?.metadata.labels?.[LABELS.WAYPOINT_FOR] ?? WAYPOINT_FOR.SERVICE;
  const address = gatewayAddress(gw, opts) ?? hostnameAddress(namespace, serviceHostname(gw.metadata.name, namespace, opts));
  // makeAllowedRoutes: the HBONE listener on 15008 decides; no such listener means Same.
  const hbone = gw.spec.listeners.find((l) => l.protocol === 'HBONE' && l.port === HBONE_MTLS_PORT);
  const ns = hbone?.allowedRoutes?.namespaces;
  const allowedFrom = ns?.from ?? 'Same';
  return {
    namespace,
    name: gw.metadata.name,
    address,
    trafficType,
    allowedFrom,
    ...(allowedFrom === 'Selector' && ns?.selector ? { allowedSelector: ns.selector } : {}),
  };
}

/** getGatewayAddress: prefer a Hostname status address, then an IPAddress one. */
function gatewayAddress(gw: Gateway, opts: MeshOptions): workload.GatewayAddress | undefined {
  const addrs = gw.status?.addresses ?? [];
  const host = addrs.find((a) => a.type === 'Hostname');
  if (host) return hostnameAddress(gw.metadata.namespace ?? '', host.value);
  for (const a of addrs) {
    if (a.type !== 'IPAddress') continue;
    const ip = parseIp(a.value);
    if (ip === undefined) continue;
    return create(workload.GatewayAddressSchema, {
      destination: { case: 'address', value: { network: opts.network, address: ip } },
      hboneMtlsPort: HBONE_MTLS_PORT,
    });
  }
  return undefined;
}

function hostnameAddress(namespace: string, hostname: string): workload.GatewayAddress {
  return create(workload.GatewayAddressSchema, {
    destination: { case: 'hostname', value: { namespace, hostname } },
    hboneMtlsPort: HBONE_MTLS_PORT,
  });
}

/** GetUseWaypoint: `none` opts out; use-waypoint-namespace overrides the namespace. */
export function useWaypointRef(meta: Pick<ObjectMeta, 'labels'>, defaultNamespace: string): 'none' | { namespace: string; name: string } | undefined {
  const value = meta.labels?.[LABELS.USE_WAYPOINT];
  if (value === undefined) return undefined;
  if (value === USE_WAYPOINT_NONE) return 'none';
  return { namespace: meta.labels?.[LABELS.USE_WAYPOINT_NAMESPACE] ?? defaultNamespace, name: value };
}

/** The waypoint key an object asks for (its own label, else its namespace's), for reverse indexing. */
export function wantedWaypoint(meta: ObjectMeta, ns: Namespace | undefined): string | undefined {
  const own = useWaypointRef(meta, meta.namespace ?? '');
  if (own === 'none') return undefined;
  if (own) return waypointKey(own.namespace, own.name);
  const inherited = ns ? useWaypointRef(ns.metadata, meta.namespace ?? '') : undefined;
  return inherited && inherited !== 'none' ? waypointKey(inherited.namespace, inherited.name) : undefined;
}

export interface WaypointBinding {
  readonly waypoint?: Waypoint;
  readonly condition?: StatusCondition;
}

export type WaypointLookup = (key: string) => Waypoint | undefined;
export type TrafficKind = 'service' | 'workload';

/**
 * fetchWaypointForTarget + fetchWaypointForService/Workload: the object's own label beats its namespace's;
 * the waypoint must exist, allow attachment from the object's namespace and serve this kind of traffic.
 * A workload that only inherits a service-only waypoint from its namespace is silently unbound (Istio).
 */
export function resolveWaypoint(resource: string, meta: ObjectMeta, ns: Namespace | undefined, lookup: WaypointLookup, kind: TrafficKind): WaypointBinding {
  const objNs = meta.namespace ?? '';
  if (kind === 'service') {
    const managed = meta.labels?.[LABELS.GATEWAY_MANAGED];
    if (managed === GATEWAY_MANAGED_WAYPOINT || managed === 'istio.io-eastwest-controller') return {};
  }
  const own = useWaypointRef(meta, objNs);
  if (own === 'none') return {};
  const ref = own ?? (ns ? useWaypointRef(ns.metadata, objNs) : undefined);
  if (ref === undefined || ref === 'none') return {};
  const key = waypointKey(ref.namespace, ref.name);
  const w = lookup(key);
  if (w === undefined) return { condition: bad(resource, 'WaypointNotFound', `waypoint ${key} was not found or is not ready`) };
  if (!allowsAttachment(w, objNs, ns)) {
    return { condition: bad(resource, 'AttachmentDenied', `waypoint ${key} does not allow attachment from namespace ${objNs} (listener allowedRoutes)`) };
  }
  const serves = w.trafficType === WAYPOINT_FOR.ALL || w.trafficType === kind;
  if (serves) return { waypoint: w, condition: ok(resource, key) };
  if (kind === 'workload' && own === undefined) return {};
  return { condition: bad(resource, 'UnsupportedTrafficType', `waypoint ${key} is for ${w.trafficType} traffic, not ${kind} traffic; set istio.io/waypoint-for on the Gateway`) };
}

function allowsAttachment(w: Waypoint, namespace: string, ns: Namespace | undefined): boolean {
  if (w.allowedFrom === 'All') return true;
  if (w.allowedFrom === 'Selector') return labelSelectorMatches(w.allowedSelector ?? {}, ns?.metadata.labels);
  return w.namespace === namespace;
}

function bad(resource: string, reason: string, message: string): StatusCondition {
  return { resource, type: 'WaypointBound', status: 'False', reason, message };
}

function ok(resource: string, key: string): StatusCondition {
  return { resource, type: 'WaypointBound', status: 'True', reason: 'WaypointAccepted', message: `bound to ${key}` };
}
