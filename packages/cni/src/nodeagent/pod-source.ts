import type { Namespace, Pod } from '@mesh/api';

export type WatchEventType = 'add' | 'update' | 'delete';

export interface PodWatchEvent {
  readonly type: WatchEventType;
  readonly pod: Pod;
  /** The previous object for updates. */
  readonly old: Pod | undefined;
}

export interface NamespaceWatchEvent {
  readonly type: WatchEventType;
  readonly namespace: Namespace;
  readonly old: Namespace | undefined;
}

export interface PodSourceHandlers {
  readonly onPod: (e: PodWatchEvent) => void;
  readonly onNamespace: (e: NamespaceWatchEvent) => void;
}

/**
 * What the agent needs from the cluster (Istio's pod + namespace informers, filtered to this node):
 * a warm cache and change events. Implementations: a directory of YAML (local cluster, here) and
 * later the Kubernetes API.
 */
export interface PodSource {
  /** Loads the initial state (no events for it) and starts watching; events go to `handlers`. */
  start(handlers: PodSourceHandlers): Promise<void>;
  stop(): Promise<void>;
  /** Pods scheduled to this node. */
  listPods(): readonly Pod[];
  getPod(namespace: string, name: string): Pod | undefined;
  getNamespace(name: string): Namespace | undefined;
}

/** Writes the agent's enrollment status onto the pod (Istio util.AnnotateEnrolledPod & co.). */
export interface PodAnnotator {
  /** `undefined` removes the annotation. */
  setRedirection(pod: Pod, value: string | undefined): Promise<void>;
}

export function podKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}
