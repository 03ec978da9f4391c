import { ANNOTATIONS, type Pod } from '@mesh/api';
import type { Logger } from '@mesh/core';
import type { CniPluginAddEvent } from '../plugin';
import { MeshDataplane, uidOf } from './dataplane';
import { ambientEnabled, podIps, podTerminated } from './enrollment';
import { PodUnknownError } from './errors';
import { DEFAULT_RETRY_POLICY, KeyedQueue, type RetryPolicy } from './keyed-queue';
import type { NetnsResolver } from './netns-resolver';
import { fdPath } from './pod-cache';
import type { NamespaceWatchEvent, PodSource, PodWatchEvent } from './pod-source';

/** How long /cmdadd waits for a pod the source has not shown yet (the watch may lag the kubelet). */
export const DEFAULT_POD_WAIT_MS = 2_000;
const POD_WAIT_POLL_MS = 25;

export interface PodControllerOptions {
  readonly source: PodSource;
  readonly dataplane: MeshDataplane;
  readonly resolver: NetnsResolver;
  readonly excludedNamespaces: readonly string[];
  readonly logger: Logger;
  readonly retry?: RetryPolicy;
  readonly podWaitMs?: number;
}

/**
 * Keeps the node's pods' enrollment equal to what their labels ask for (I:cni/pkg/nodeagent/informers.go):
 * pod/namespace events enqueue the affected pods; each reconcile adds a running pod that should be in
 * the mesh, removes one that should not (label removed, pod deleted or terminal), with retries.
 */
export class PodController {
  readonly #o: PodControllerOptions;
  readonly #queue: KeyedQueue;
  /** Pods of this node by uid, including ones deleted since (until reconciled). */
  readonly #known = new Map<string, Pod>();

  constructor(opts: PodControllerOptions) {
    this.#o = opts;
    this.#queue = new KeyedQueue({
      retry: opts.retry ?? DEFAULT_RETRY_POLICY,
      work: (uid) => this.#reconcile(uid),
      onError: (uid, err, attempt, retryInMs) =>
        retryInMs === undefined
          ? opts.logger.error({ err, uid, attempt }, 'giving up reconciling pod until its next change')
          : opts.logger.warn({ err, uid, attempt, retryInMs }, 'reconciling pod failed; will retry'),
    });
  }

  /**
   * Startup: every pod already annotated as redirected goes into the ZDS snapshot, its rules re-applied
   * (idempotent), before the ZDS server starts; then every pod is reconciled once to catch what changed
   * while the agent was away.
   */
  async adoptExisting(): Promise<void> {
    for (const pod of this.#o.source.listPods()) {
      this.#known.set(uidOf(pod), pod);
      if (pod.metadata.annotations?.[ANNOTATIONS.AMBIENT_REDIRECTION] === undefined || podTerminated(pod)) continue;
      try {
        await this.#o.dataplane.adoptEnrolledPod(pod, await this.#o.resolver.resolve(pod));
      } catch (err) {
        this.#o.logger.error({ err, pod: pod.metadata.name }, 'cannot re-apply in-pod rules of an enrolled pod; restart the pod or re-label it');
      }
    }
  }

  /** Enqueues every known pod (after adoptExisting and the ZDS server start). */
  resyncAll(): void {
    for (const uid of this.#known.keys()) this.#queue.enqueue(uid);
  }

  onPod(e: PodWatchEvent): void {
    const uid = uidOf(e.pod);
    if (e.type !== 'delete') this.#known.set(uid, e.pod);
    else this.#known.delete(uid);
    this.#queue.enqueue(uid);
  }

  onNamespace(e: NamespaceWatchEvent): void {
    const name = e.namespace.metadata.name;
    for (const [uid, pod] of this.#known) if ((pod.metadata.namespace ?? 'default') === name) this.#queue.enqueue(uid);
  }

  /** POST /cmdadd: decide from the agent's own state, then enroll under the pod's lock. */
  async handleCniAdd(ev: CniPluginAddEvent): Promise<{ enrolled: boolean }> {
    const pod = await this.#waitForPod(ev.PodNamespace, ev.PodName);
    const ns = this.#o.source.getNamespace(ev.PodNamespace);
    if (!ambientEnabled(pod, ns, this.#o.excludedNamespaces)) return { enrolled: false };
    const ips = ev.IPs.map((ip) => ip.Address.split('/')[0] ?? '').filter((ip) => ip !== '');
    const uid = uidOf(pod);
    this.#known.set(uid, pod);
    await this.#queue.exclusive(uid, () => this.#o.dataplane.addPodToMesh(pod, ips, ev.Netns));
    return { enrolled: true };
  }

  stop(): Promise<void> {
    return this.#queue.stop();
  }

  idle(): Promise<void> {
    return this.#queue.idle();
  }

  async #waitForPod(namespace: string, name: string): Promise<Pod> {
    const waitMs = this.#o.podWaitMs ?? DEFAULT_POD_WAIT_MS;
    const deadline = Date.now() + waitMs;
    for (;;) {
      const pod = this.#o.source.getPod(namespace, name);
      if (pod) return pod;
      if (Date.now() >= deadline) throw new PodUnknownError({ pod: `${namespace}/${name}`, waitedMs: waitMs });
      await new Promise((r) => setTimeout(r, POD_WAIT_POLL_MS));
    }
  }

  async #reconcile(uid: string): Promise<void> {
    const dp = this.#o.dataplane;
    const pod = this.#known.get(uid);
    const entry = dp.cache.get(uid);
    if (!pod || podTerminated(pod)) {
      if (entry) await dp.removePodFromMesh(pod ?? entry.pod, true);
      return;
    }
    const want = ambientEnabled(pod, this.#o.source.getNamespace(pod.metadata.namespace ?? 'default'), this.#o.excludedNamespaces);
    const annotated = pod.metadata.annotations?.[ANNOTATIONS.AMBIENT_REDIRECTION] !== undefined;
    if (!want) {
      if (entry || annotated) await dp.removePodFromMesh(pod, false, await this.#o.resolver.resolve(pod));
      return;
    }
    if (entry?.status === 'enabled') return;
    const path = entry?.netnsFd !== undefined ? fdPath(entry.netnsFd) : await this.#o.resolver.resolve(pod);
    if (path === undefined) {
      // A pod without a sandbox yet is the CNI plugin's to enroll; a running one must be found.
      if (pod.status?.phase === 'Running') throw new Error(`netns of running pod ${pod.metadata.name} not found`);
      return;
    }
    await dp.addPodToMesh(pod, entry?.ips.length ? entry.ips : podIps(pod), path);
  }
}
