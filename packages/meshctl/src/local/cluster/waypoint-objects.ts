import type { Gateway, Namespace } from '@mesh/api';
import { keyOf, type ConfigDir, type KubeObjectLike } from './config-dir';
import { ClusterError } from './errors';
import { WAYPOINT_HBONE_PORT } from './components';

/** The GatewayClass istiod treats as a waypoint (Istio's istio-waypoint). */
export const WAYPOINT_GATEWAY_CLASS = 'istio-waypoint';
export const WAYPOINT_FOR_LABEL = 'istio.io/waypoint-for';
export const USE_WAYPOINT_LABEL = 'istio.io/use-waypoint';
export const DEFAULT_WAYPOINT_NAME = 'waypoint';
export const WAYPOINT_FOR_VALUES = ['service', 'workload', 'all', 'none'] as const;
export type WaypointFor = (typeof WAYPOINT_FOR_VALUES)[number];
const GATEWAY_API_VERSION = 'gateway.networking.k8s.io/v1';

export interface WaypointApplyOptions {
  namespace: string;
  name?: string;
  for?: WaypointFor;
  enrollNamespace?: boolean;
}

export interface WaypointApplyResult {
  gateway: string;
  action: 'created' | 'configured' | 'unchanged';
  /** Set when --enroll-namespace labelled the namespace. */
  enrolledNamespace?: string;
}

export interface WaypointInfo {
  namespace: string;
  name: string;
  for: string;
}

/**
 * The Gateway `istioctl waypoint apply` writes: class istio-waypoint, one HBONE listener named mesh on
 * 15008, and istio.io/waypoint-for saying which traffic it takes.
 */
export function waypointGateway(namespace: string, name: string, forType: WaypointFor): Gateway {
  return {
    apiVersion: GATEWAY_API_VERSION,
    kind: 'Gateway',
    metadata: { name, namespace, labels: { [WAYPOINT_FOR_LABEL]: forType } },
    spec: {
      gatewayClassName: WAYPOINT_GATEWAY_CLASS,
      listeners: [{ name: 'mesh', port: WAYPOINT_HBONE_PORT, protocol: 'HBONE' }],
    },
  } as Gateway;
}

export function isWaypointGateway(o: KubeObjectLike): boolean {
  const spec = o['spec'] as { gatewayClassName?: string } | undefined;
  return o.apiVersion.startsWith('gateway.networking.k8s.io/') && spec?.gatewayClassName === WAYPOINT_GATEWAY_CLASS;
}

function gatewayKey(namespace: string, name: string) {
  return { apiVersion: GATEWAY_API_VERSION, kind: 'Gateway', namespace, name };
}

/** Writes the waypoint Gateway (and, with enrollNamespace, the namespace's use-waypoint label). */
export function applyWaypointObjects(config: ConfigDir, o: WaypointApplyOptions): WaypointApplyResult {
  const name = o.name ?? DEFAULT_WAYPOINT_NAME;
  const ns = config.read<Namespace & KubeObjectLike>({ apiVersion: 'v1', kind: 'Namespace', name: o.namespace });
  if (!ns) throw new ClusterError('CLUSTER_UNKNOWN_OBJECT', `namespace "${o.namespace}" not found; create it first (meshctl local apply -f a Namespace)`);
  const gw = waypointGateway(o.namespace, name, o.for ?? 'service') as unknown as KubeObjectLike;
  const old = config.read(keyOf(gw));
  const action = !old ? 'created' : JSON.stringify(old) === JSON.stringify(gw) ? 'unchanged' : 'configured';
  if (action !== 'unchanged') config.write(gw);
  const result: WaypointApplyResult = { gateway: `${o.namespace}/${name}`, action };
  if (o.enrollNamespace) {
    config.write({ ...ns, metadata: { ...ns.metadata, labels: { ...(ns.metadata.labels ?? {}), [USE_WAYPOINT_LABEL]: name } } });
    result.enrolledNamespace = o.namespace;
  }
  return result;
}

/** Waypoint Gateways in one namespace, or everywhere when namespace is undefined. */
export function listWaypointObjects(config: ConfigDir, namespace?: string): WaypointInfo[] {
  return config
    .list('Gateway', namespace)
    .filter(isWaypointGateway)
    .map((g) => ({
      namespace: g.metadata.namespace ?? 'default',
      name: g.metadata.name,
      for: ((g.metadata['labels'] as Record<string, string> | undefined) ?? {})[WAYPOINT_FOR_LABEL] ?? 'service',
    }));
}

/**
 * Deletes the named waypoint Gateways; like istioctl, a namespace still pointing at a deleted waypoint
 * keeps its label (istiod then reports WaypointNotFound), so the user decides.
 */
export function deleteWaypointObjects(config: ConfigDir, namespace: string, names: readonly string[]): Array<{ gateway: string; action: 'deleted' | 'not found' }> {
  return names.map((name) => {
    const key = gatewayKey(namespace, name);
    const obj = config.read(key);
    if (!obj || !isWaypointGateway(obj)) return { gateway: `${namespace}/${name}`, action: 'not found' as const };
    config.delete(key);
    return { gateway: `${namespace}/${name}`, action: 'deleted' as const };
  });
}
