import type { Pod } from '@mesh/api';
import { closeFd } from '@mesh/netns';
import type { ZdsSnapshotEntry } from '../zds';
import { workloadInfo } from './enrollment';

export type EnrollmentStatus = 'enabled' | 'pending';

export interface EnrolledPod {
  readonly pod: Pod;
  /** Held open for the pod's lifetime: ZDS snapshots pass it, removal enters it. */
  readonly netnsFd: number | undefined;
  readonly ips: readonly string[];
  readonly status: EnrollmentStatus;
}

/** The agent's state of the world: every pod it redirected, by uid (Istio podNetnsCache). */
export class PodCache {
  readonly #pods = new Map<string, EnrolledPod>();

  get(uid: string): EnrolledPod | undefined {
    return this.#pods.get(uid);
  }

  has(uid: string): boolean {
    return this.#pods.has(uid);
  }

  uids(): string[] {
    return [...this.#pods.keys()];
  }

  /** Stores the entry; a previous fd for the uid is closed unless it is the same one. */
  set(uid: string, entry: EnrolledPod): void {
    const old = this.#pods.get(uid);
    if (old?.netnsFd !== undefined && old.netnsFd !== entry.netnsFd) closeFd(old.netnsFd);
    this.#pods.set(uid, entry);
  }

  /** Forgets the pod and closes its netns fd. */
  delete(uid: string): void {
    const old = this.#pods.get(uid);
    if (old?.netnsFd !== undefined) closeFd(old.netnsFd);
    this.#pods.delete(uid);
  }

  clear(): void {
    for (const uid of this.uids()) this.delete(uid);
  }

  snapshot(): ZdsSnapshotEntry[] {
    return [...this.#pods].map(([uid, e]) => ({ uid, workload: workloadInfo(e.pod), netnsFd: e.netnsFd }));
  }
}

/** Path through which child processes (nsenter) enter a netns this process holds open. */
export function fdPath(fd: number): string {
  return `/proc/${process.pid}/fd/${fd}`;
}
