// The in-pod state (Z:src/inpod/statemanager.rs): uid -> the pod's listeners. Snapshot semantics: after a
// (re)connect every Add/Keep marks a pod as seen; SnapshotSent drops the pods not seen.
import { closeFd, netnsInode } from '@mesh/netns';
import type { Logger } from '@mesh/core';
import type { PodInfo } from '../proxy/index';
import type { ZdsHandler } from './zds-client';

export interface PodHandle {
  /** Settles when the pod's listeners and connections are gone (in every worker, in multi-worker mode). */
  close(): void | Promise<void>;
  stopAccepting(): void;
  readonly connectionCount: number;
}

export type StartPod = (info: PodInfo, netnsFd: number) => Promise<PodHandle>;

interface Entry {
  info: PodInfo;
  pod: PodHandle;
  inode: number;
}

export class WorkloadManager implements ZdsHandler {
  private readonly pods = new Map<string, Entry>();
  private seen = new Set<string>();
  private snapshotDone = false;

  constructor(
    private readonly startPod: StartPod,
    private readonly logger: Logger,
    private readonly onChange: (count: number) => void = () => undefined,
  ) {}

  get size(): number {
    return this.pods.size;
  }

  /** True once the agent's first snapshot was fully applied (Istio's readiness waits for it). */
  get snapshotApplied(): boolean {
    return this.snapshotDone;
  }

  has(uid: string): boolean {
    return this.pods.has(uid);
  }

  connectionStarted(): void {
    this.seen = new Set();
  }

  async add(info: PodInfo, netnsFd: number): Promise<void> {
    this.seen.add(info.uid);
    const existing = this.pods.get(info.uid);
    const inode = netnsInode(netnsFd);
    if (existing && existing.inode === inode) {
      // Re-sent after a reconnect: same netns, the listeners are already there.
      closeFd(netnsFd);
      return;
    }
    if (existing) {
      this.pods.delete(info.uid);
      await existing.pod.close();
    }
    const pod = await this.startPod(info, netnsFd);
    this.pods.set(info.uid, { info, pod, inode });
    this.onChange(this.pods.size);
  }

  keep(uid: string): void {
    if (this.pods.has(uid)) this.seen.add(uid);
    else this.logger.warn({ uid }, 'ZDS keep for a pod this ztunnel does not have; its traffic is not proxied until re-added');
  }

  async snapshotSent(): Promise<void> {
    for (const uid of [...this.pods.keys()]) {
      if (!this.seen.has(uid)) await this.del(uid);
    }
    this.snapshotDone = true;
  }

  async del(uid: string): Promise<void> {
    const entry = this.pods.get(uid);
    if (!entry) return;
    this.pods.delete(uid);
    this.onChange(this.pods.size);
    await entry.pod.close();
  }

  /** Pods as /config_dump's workloadState shows them. */
  dump(): Record<string, { name: string; namespace: string; serviceAccount: string; state: string; connections: number }> {
    const out: Record<string, { name: string; namespace: string; serviceAccount: string; state: string; connections: number }> = {};
    for (const [uid, e] of this.pods) {
      out[uid] = { name: e.info.name, namespace: e.info.namespace, serviceAccount: e.info.serviceAccount, state: 'Up', connections: e.pod.connectionCount };
    }
    return out;
  }

  stopAccepting(): void {
    for (const e of this.pods.values()) e.pod.stopAccepting();
  }

  async closeAll(): Promise<void> {
    const closing: (void | Promise<void>)[] = [];
    for (const e of this.pods.values()) closing.push(e.pod.close());
    this.pods.clear();
    this.onChange(0);
    await Promise.all(closing);
  }
}
