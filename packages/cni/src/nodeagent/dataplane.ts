import { channel } from 'node:diagnostics_channel';
import { ANNOTATIONS, REDIRECTION, type Pod } from '@mesh/api';
import type { Logger } from '@mesh/core';
import { closeFd, openNetns } from '@mesh/netns';
import { applyInPodRedirection, removeInPodRedirection, type InPodRedirectionConfig, type NetnsExecOptions } from '../iptables';
import type { ZdsWorkloadInfo } from '../zds';
import { podIps, workloadInfo } from './enrollment';
import { PodNetnsError, PodRedirectionError, PodRemoveError, PodZtunnelError, reasonOf } from './errors';
import type { HostProbe } from './host-probe';
import { fdPath, PodCache } from './pod-cache';
import type { PodAnnotator } from './pod-source';

/** diagnostics_channel carrying one CniAddTiming per successful addPodToMesh (the bench subscribes). */
export const CNI_ADD_TIMING_CHANNEL = 'mesh:cni:add-timing';
const addTimingChannel = channel(CNI_ADD_TIMING_CHANNEL);

/** Where the time of one pod enrollment went: ms per step, in order (rules.* are the applier's). */
export interface CniAddTiming {
  readonly pod: string;
  readonly uid: string;
  readonly stepsMs: Readonly<Record<string, number>>;
  readonly totalMs: number;
}

/** What the dataplane needs from the ZDS server (an interface so unit tests can stand in). */
export interface ZtunnelLink {
  addWorkload(uid: string, workload: ZdsWorkloadInfo, netnsFd: number): Promise<void>;
  delWorkload(uid: string): Promise<void>;
}

export interface MeshDataplaneOptions {
  readonly ztunnel: ZtunnelLink;
  readonly annotator: PodAnnotator;
  readonly redirection: Partial<InPodRedirectionConfig>;
  /** How rules reach pod netns (the agent's NETNS_EXEC_HELPER). */
  readonly exec?: NetnsExecOptions;
  readonly hostProbe: HostProbe | undefined;
  readonly logger: Logger;
}

/**
 * Enrolling and releasing one pod, in Istio's order (I:cni/pkg/nodeagent/meshdataplane_linux.go,
 * net_linux.go): open netns -> in-pod rules -> ZDS Add (ack) -> probe ipset -> annotate `enabled`.
 * Failures before ZDS leave nothing behind and are not retryable; a ZDS failure leaves the rules in
 * place, annotates `pending` (so removal still cleans up) and is retryable.
 */
export class MeshDataplane {
  readonly cache = new PodCache();
  readonly #o: MeshDataplaneOptions;

  constructor(opts: MeshDataplaneOptions) {
    this.#o = opts;
  }

  async addPodToMesh(pod: Pod, ips: readonly string[], netnsPath: string): Promise<void> {
    const uid = uidOf(pod);
    const name = nameOf(pod);
    const log = this.#o.logger.child({ pod: name, uid });
    const t0 = performance.now();
    const steps: Record<string, number> = {};
    let last = t0;
    const mark = (step: string): void => {
      const now = performance.now();
      steps[step] = round2(now - last);
      last = now;
    };
    let fd: number;
    try {
      fd = openNetns(netnsPath);
    } catch (e) {
      throw new PodNetnsError({ pod: name, reason: `${netnsPath}: ${reasonOf(e)}` }, { cause: e });
    }
    mark('openNetns');
    try {
      const applied = await applyInPodRedirection(fdPath(fd), podRedirectionConfig(pod, this.#o.redirection), this.#o.exec);
      for (const [k, v] of Object.entries(applied.stepsMs)) steps[`rules.${k}`] = v;
    } catch (e) {
      // Like Istio, a failed (re-)add also drops the uid from the snapshot.
      closeFd(fd);
      this.cache.delete(uid);
      throw new PodRedirectionError({ pod: name, reason: reasonOf(e) }, { cause: e });
    }
    mark('rules');
    this.cache.set(uid, { pod, netnsFd: fd, ips, status: REDIRECTION.PENDING });
    try {
      await this.#o.ztunnel.addWorkload(uid, workloadInfo(pod), fd);
    } catch (e) {
      log.error({ err: e }, 'ztunnel did not take the pod: partially added, annotating it pending');
      await this.#o.annotator.setRedirection(pod, REDIRECTION.PENDING);
      throw new PodZtunnelError({ pod: name, reason: reasonOf(e) }, { cause: e });
    }
    mark('ztunnelAck');
    await this.#o.hostProbe?.addPod(uid, ips);
    mark('hostProbe');
    await this.#o.annotator.setRedirection(pod, REDIRECTION.ENABLED);
    mark('annotate');
    this.cache.set(uid, { pod, netnsFd: fd, ips, status: REDIRECTION.ENABLED });
    const timing: CniAddTiming = { pod: name, uid, stepsMs: steps, totalMs: round2(performance.now() - t0) };
    log.info({ netns: netnsPath, ips }, 'pod added to the mesh');
    log.debug(timing, 'pod add timing');
    if (addTimingChannel.hasSubscribers) addTimingChannel.publish(timing);
  }

  /**
   * ipset entry first, then (pod still running) the in-pod rules, ZDS Del to every ztunnel, and the
   * annotation last; the cache entry goes only when all of it worked, so a retry can finish the job.
   */
  async removePodFromMesh(pod: Pod, isDelete: boolean, fallbackNetnsPath?: string): Promise<void> {
    const uid = uidOf(pod);
    const name = nameOf(pod);
    const entry = this.cache.get(uid);
    try {
      await this.#o.hostProbe?.removePod(entry?.ips ?? []);
      if (!isDelete) {
        const path = entry?.netnsFd !== undefined ? fdPath(entry.netnsFd) : fallbackNetnsPath;
        if (path !== undefined) await removeInPodRedirection(path, this.#o.exec);
        else this.#o.logger.warn({ pod: name }, 'pod netns unknown, not deleting in-pod rules');
      }
      await this.#o.ztunnel.delWorkload(uid);
    } catch (e) {
      throw new PodRemoveError({ pod: name, reason: reasonOf(e) }, { cause: e });
    }
    this.cache.delete(uid);
    try {
      await this.#o.annotator.setRedirection(pod, undefined);
    } catch (e) {
      // A deleted pod's annotation does not matter; a running one must lose it (istiod reads it).
      if (!isDelete) throw new PodRemoveError({ pod: name, reason: reasonOf(e) }, { cause: e });
    }
    this.#o.logger.info({ pod: name, uid, deleted: isDelete }, 'pod removed from the mesh');
  }

  /**
   * Startup (Istio ConstructInitialSnapshot + reconcileExistingPod): an already enrolled pod goes into
   * the snapshot, with its netns when found, and its rules are re-applied idempotently.
   */
  async adoptEnrolledPod(pod: Pod, netnsPath: string | undefined): Promise<void> {
    const uid = uidOf(pod);
    const status = pod.metadata.annotations?.[ANNOTATIONS.AMBIENT_REDIRECTION] === REDIRECTION.ENABLED ? REDIRECTION.ENABLED : REDIRECTION.PENDING;
    const ips = podIps(pod);
    if (netnsPath === undefined) {
      this.cache.set(uid, { pod, netnsFd: undefined, ips, status });
      return;
    }
    const fd = openNetns(netnsPath);
    this.cache.set(uid, { pod, netnsFd: fd, ips, status });
    await applyInPodRedirection(fdPath(fd), podRedirectionConfig(pod, this.#o.redirection), this.#o.exec);
    await this.#o.hostProbe?.addPod(uid, ips);
  }
}

/** Pod-level overrides (Istio getPodLevelTrafficOverrides): ingress mode skips inbound capture. */
export function podRedirectionConfig(pod: Pod, base: Partial<InPodRedirectionConfig>): Partial<InPodRedirectionConfig> {
  const bypass = pod.metadata.annotations?.[ANNOTATIONS.AMBIENT_BYPASS_INBOUND_CAPTURE] === 'true';
  return bypass ? { ...base, ingressMode: true } : base;
}

export function uidOf(pod: Pod): string {
  return pod.metadata.uid ?? '';
}

const round2 = (ms: number): number => Math.round(ms * 100) / 100;

function nameOf(pod: Pod): string {
  return `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name}`;
}
