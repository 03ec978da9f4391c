import { isIPv4, isIPv6 } from 'node:net';
import type { Logger } from '@mesh/core';
import { applyHostProbeRules, buildProbeIpsetCreateArgs, PROBE_IPSET_V4, PROBE_IPSET_V6, removeHostProbeRules, type InPodRedirectionConfig } from '../iptables';
import { CniRedirectionError } from '../iptables/errors';
import { runInNetns, resolveNetnsPath } from '../iptables/exec';

/**
 * Host side of kubelet probe handling (Istio meshDataplane host addrset + CreateHostRulesForHealthChecks):
 * the SNAT rule in the node netns and the ipsets of enrolled pod IPs it matches. `netns` undefined =
 * the agent's own netns (hostNetwork DaemonSet); a path targets another one (tests, local nodes).
 */
export class HostProbe {
  readonly #netns: string | undefined;
  readonly #cfg: Partial<InPodRedirectionConfig>;
  readonly #log: Logger;

  constructor(netns: string | undefined, cfg: Partial<InPodRedirectionConfig>, logger: Logger) {
    this.#netns = netns === undefined ? undefined : resolveNetnsPath(netns);
    this.#cfg = cfg;
    this.#log = logger;
  }

  async start(): Promise<void> {
    for (const family of ['v4', 'v6'] as const) await this.#run(buildProbeIpsetCreateArgs(family));
    await applyHostProbeRules(this.#netns, this.#cfg);
  }

  /** Removes the rules and destroys the sets (Istio does this on a clean, non-upgrade shutdown). */
  async stop(): Promise<void> {
    await removeHostProbeRules(this.#netns);
    for (const set of [PROBE_IPSET_V4, PROBE_IPSET_V6]) {
      await this.#run(['ipset', 'destroy', set]).catch((err: unknown) => this.#log.warn({ err, set }, 'cannot destroy probe ipset'));
    }
  }

  /** Upsert: the pod uid rides along as the entry comment, as in Istio. */
  async addPod(uid: string, ips: readonly string[]): Promise<void> {
    for (const ip of ips) {
      const set = setFor(ip);
      if (set) await this.#run(['ipset', 'add', set, ip, 'comment', uid, '-exist']);
    }
  }

  async removePod(ips: readonly string[]): Promise<void> {
    for (const ip of ips) {
      const set = setFor(ip);
      if (set) await this.#run(['ipset', 'del', set, ip, '-exist']);
    }
  }

  async #run(argv: string[]): Promise<void> {
    const r = await runInNetns(this.#netns, argv);
    if (r.code !== 0) {
      throw new CniRedirectionError('CNI_IPTABLES_FAILED', `${argv.join(' ')} failed (exit ${r.code}): ${r.stderr.trim()}`, {
        command: argv,
        stderr: r.stderr,
      });
    }
  }
}

function setFor(ip: string): string | undefined {
  if (isIPv4(ip)) return PROBE_IPSET_V4;
  if (isIPv6(ip)) return PROBE_IPSET_V6;
  return undefined;
}
