import { ANNOTATIONS, DATAPLANE_MODE, LABELS, type Namespace, type Pod } from '@mesh/api';

/**
 * Whether the agent should redirect this pod (Istio util.PodRedirectionEnabled and the plugin's
 * checks): not in an excluded namespace, not host-network, not sidecar-injected, pod label
 * `istio.io/dataplane-mode` not `none`, and that label set to `ambient` on the pod or, when the
 * pod has none, on its namespace.
 */
export function ambientEnabled(pod: Pod, namespace: Namespace | undefined, excludedNamespaces: readonly string[]): boolean {
  const ns = pod.metadata.namespace ?? 'default';
  if (excludedNamespaces.includes(ns)) return false;
  if (pod.spec.hostNetwork === true) return false;
  if (pod.metadata.annotations?.[ANNOTATIONS.SIDECAR_STATUS] !== undefined) return false;
  const podMode = pod.metadata.labels?.[LABELS.DATAPLANE_MODE];
  if (podMode === DATAPLANE_MODE.NONE) return false;
  if (podMode === DATAPLANE_MODE.AMBIENT) return true;
  return namespace?.metadata.labels?.[LABELS.DATAPLANE_MODE] === DATAPLANE_MODE.AMBIENT;
}

/**
 * Terminal pods hold no sandbox any more and are treated like deleted ones (Istio kube.CheckPodTerminal).
 * A pod with only a deletionTimestamp is still running its grace period and stays in the mesh.
 */
export function podTerminated(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** Pod IPs from status (the informer path; the plugin path uses the CNI result's IPs instead). */
export function podIps(pod: Pod): string[] {
  const ips = (pod.status?.podIPs ?? []).map((p) => p.ip).filter((ip) => ip !== '');
  if (ips.length === 0 && pod.status?.podIP) ips.push(pod.status.podIP);
  return ips;
}

export function workloadInfo(pod: Pod): { name: string; namespace: string; serviceAccount: string } {
  return {
    name: pod.metadata.name,
    namespace: pod.metadata.namespace ?? 'default',
    serviceAccount: pod.spec.serviceAccountName ?? pod.spec.serviceAccount ?? 'default',
  };
}
