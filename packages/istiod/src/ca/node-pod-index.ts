import type { Pod } from '@mesh/api';

/**
 * Which service accounts have pods on a node: what the CA asks before letting a node agent (ztunnel)
 * impersonate an identity. Istio keeps the same index (node + SA) over its pod informer (node_auth.go).
 */
export interface NodePodIndex {
  hasPodWithIdentityOnNode(node: string, namespace: string, serviceAccount: string): boolean;
}

const key = (node: string, namespace: string, sa: string): string => `${node}\u0000${namespace}\u0000${sa}`;

/** Pods' service account; Kubernetes fills `default` when the spec names none. */
function serviceAccountOf(pod: Pod): string {
  return pod.spec?.serviceAccountName || pod.spec?.serviceAccount || 'default';
}

/**
 * In-memory NodePodIndex fed with pod upserts/deletes (from the config store's Pod events). Failed pods
 * are left out: Istio skips them because their identity may already belong to a replacement elsewhere.
 */
export class InMemoryNodePodIndex implements NodePodIndex {
  /** node/ns/sa -> names of pods contributing it. */
  private readonly counts = new Map<string, Set<string>>();
  /** ns/name -> the key the pod was counted under. */
  private readonly podKeys = new Map<string, string>();

  upsertPod(pod: Pod): void {
    const podId = `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name}`;
    this.removeById(podId);
    const node = pod.spec?.nodeName;
    if (node === undefined || node === '' || pod.status?.phase === 'Failed') return;
    const k = key(node, pod.metadata.namespace ?? 'default', serviceAccountOf(pod));
    let set = this.counts.get(k);
    if (set === undefined) this.counts.set(k, (set = new Set()));
    set.add(podId);
    this.podKeys.set(podId, k);
  }

  deletePod(namespace: string, name: string): void {
    this.removeById(`${namespace}/${name}`);
  }

  hasPodWithIdentityOnNode(node: string, namespace: string, serviceAccount: string): boolean {
    return (this.counts.get(key(node, namespace, serviceAccount))?.size ?? 0) > 0;
  }

  private removeById(podId: string): void {
    const k = this.podKeys.get(podId);
    if (k === undefined) return;
    this.podKeys.delete(podId);
    const set = this.counts.get(k);
    set?.delete(podId);
    if (set !== undefined && set.size === 0) this.counts.delete(k);
  }
}

/** The slice of a config event the index needs (istiod's ConfigStore events fit it). */
export interface PodEventLike {
  readonly type: 'add' | 'update' | 'delete';
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly object: unknown;
}

/** Feed an InMemoryNodePodIndex from config events; non-Pod events are ignored. */
export function applyPodEvent(index: InMemoryNodePodIndex, event: PodEventLike): void {
  if (event.kind !== 'Pod') return;
  if (event.type === 'delete') index.deletePod(event.namespace, event.name);
  else index.upsertPod(event.object as Pod);
}
