import type { MeshH2UpgradePolicy } from '../waypoint';

/** Mesh-wide settings the conversions need (Istio: MeshConfig + istiod flags). */
export interface MeshOptions {
  /** Istio's CLUSTER_ID; prefixes workload uids. */
  readonly clusterId: string;
  /** Kubernetes DNS suffix for `<svc>.<ns>.svc.<suffix>`. */
  readonly domainSuffix: string;
  /** MeshConfig rootNamespace: policies here are mesh-wide. */
  readonly rootNamespace: string;
  /** MeshConfig trustDomain; sent as "" when it is the default cluster.local (Istio pickTrustDomain). */
  readonly trustDomain: string;
  /** Network of this cluster's addresses (empty = default network). */
  readonly network: string;
  /** MeshConfig h2UpgradePolicy, carried to waypoints; unset = DO_NOT_UPGRADE (Istio's default). */
  readonly h2UpgradePolicy?: MeshH2UpgradePolicy;
}

export const DEFAULT_MESH_OPTIONS: MeshOptions = Object.freeze({
  clusterId: 'Kubernetes',
  domainSuffix: 'cluster.local',
  rootNamespace: 'istio-system',
  trustDomain: 'cluster.local',
  network: '',
});

const DEFAULT_TRUST_DOMAIN = 'cluster.local';

/** I:pilot/pkg/serviceregistry/ambient/workloads.go pickTrustDomain. */
export function wireTrustDomain(opts: MeshOptions): string {
  return opts.trustDomain === DEFAULT_TRUST_DOMAIN ? '' : opts.trustDomain;
}

export function serviceHostname(name: string, namespace: string, opts: MeshOptions): string {
  return `${name}.${namespace}.svc.${opts.domainSuffix}`;
}
