import { detectIptablesBackend, type IptablesBackend } from './backend';
import { resolveInPodConfig, type InPodRedirectionConfig } from './config';
import type { IpFamily } from './constants';
import { resolveNetnsPath, withNetnsSession, type NetnsExecOptions } from './exec';
import { buildHostProbeRuleSet, HOST_OWNED_CHAINS } from './host-rules';
import { buildInPodRuleSet, INPOD_OWNED_CHAINS } from './inpod-rules';
import {
  applyInPodRouting,
  loopbackHasIpv6,
  removeInPodRouting,
  rollbackInPodRouting,
  type RoutingChange,
} from './netns-routing';
import { saveTables } from './netns-iptables';
import { applyRuleSet, removeRuleSet, type RuleSetApplyResult } from './rule-set-apply';

export interface RedirectionApplyResult {
  readonly backend: IptablesBackend;
  readonly families: readonly IpFamily[];
  /** `family/table` entries that changed; empty when the netns already had exactly these rules. */
  readonly changedTables: readonly string[];
}

/**
 * Programs ztunnel in-pod redirection inside the pod netns (Istio CreateInpodRules): policy
 * routing first, then the iptables rules. Idempotent; on any failure everything this call added
 * is rolled back before the error (code CNI_IPTABLES_FAILED / CNI_ROUTING_FAILED, with the
 * command's stderr) is rethrown, so a pod is never left half-redirected.
 *
 * Latency (a CNI ADD waits on this): every step is a process spawned into the netns, so the reads
 * (lo IPv6 state, `ip -batch` per family, `ip[6]tables-save`) run in parallel, then the routing
 * writes of both families, then one `ip[6]tables-restore` per family: 9 short processes in 3 waves.
 */
export async function applyInPodRedirection(
  netns: string,
  config: Partial<InPodRedirectionConfig> = {},
  exec: NetnsExecOptions = {},
): Promise<RedirectionApplyResult> {
  const cfg = resolveInPodConfig(config);
  const path = resolveNetnsPath(netns);
  const bin = await detectIptablesBackend();
  return withNetnsSession(path, () => applyInNetns(path, cfg, bin.backend), exec);
}

async function applyInNetns(path: string, cfg: InPodRedirectionConfig, backend: IptablesBackend): Promise<RedirectionApplyResult> {
  const families: IpFamily[] = cfg.enableIpv6 ? ['v4', 'v6'] : ['v4'];
  const saves = families.map((f) => saveTables(path, f));
  // Rejections are observed below; keep them from surfacing as unhandled while routing runs first.
  for (const s of saves) s.catch(() => undefined);
  const v6Routing = cfg.enableIpv6 ? await loopbackHasIpv6(path) : false;
  const routingFamilies = families.filter((f) => f === 'v4' || v6Routing);
  const routing = await settleAll(routingFamilies.map((f) => applyInPodRouting(path, f)));
  if (routing.error !== undefined) {
    await rollbackRouting(path, routing.done);
    throw routing.error;
  }
  const applied = await settleAll(families.map(async (f, i) => applyRuleSet(path, buildInPodRuleSet(cfg, f), await saves[i])));
  if (applied.error !== undefined) {
    for (const a of applied.done) await a.undo();
    await rollbackRouting(path, routing.done);
    throw applied.error;
  }
  return { backend, families, changedTables: applied.done.flatMap((a) => a.changedTables) };
}

async function rollbackRouting(path: string, changes: readonly RoutingChange[]): Promise<void> {
  for (const r of [...changes].reverse()) await rollbackInPodRouting(path, r);
}

/** Waits for every step (none is abandoned mid-flight); returns the successes and the first error. */
async function settleAll<T>(steps: Promise<T>[]): Promise<{ done: T[]; error: unknown }> {
  const results = await Promise.allSettled(steps);
  const done = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  return { done, error: failed?.reason as unknown };
}

/**
 * Removes everything applyInPodRedirection may have added, for both families, whatever config was
 * used (Istio DeleteInpodRules): jumps, ISTIO_PRERT/ISTIO_OUTPUT in every table, the fwmark rule
 * and the table-100 route. Other rules in the netns are untouched.
 */
export async function removeInPodRedirection(netns: string, exec: NetnsExecOptions = {}): Promise<void> {
  const path = resolveNetnsPath(netns);
  await withNetnsSession(path, async () => {
    await removeRuleSet(path, 'v4', INPOD_OWNED_CHAINS);
    await removeRuleSet(path, 'v6', INPOD_OWNED_CHAINS);
    await removeInPodRouting(path, 'v4');
    await removeInPodRouting(path, 'v6');
  }, exec);
}

/**
 * Host-netns probe SNAT (Istio CreateHostRulesForHealthChecks). `netns` undefined = the caller's
 * own netns (the node agent runs with hostNetwork). The ipsets must already exist.
 */
export async function applyHostProbeRules(
  netns: string | undefined,
  config: Partial<InPodRedirectionConfig> = {},
): Promise<readonly string[]> {
  const cfg = resolveInPodConfig(config);
  const path = netns === undefined ? undefined : resolveNetnsPath(netns);
  const families: IpFamily[] = cfg.enableIpv6 ? ['v4', 'v6'] : ['v4'];
  const applied: RuleSetApplyResult[] = [];
  try {
    for (const family of families) applied.push(await applyRuleSet(path, buildHostProbeRuleSet(cfg, family)));
  } catch (e) {
    for (const a of applied.reverse()) await a.undo();
    throw e;
  }
  return applied.flatMap((a) => a.changedTables);
}

export async function removeHostProbeRules(netns: string | undefined): Promise<void> {
  const path = netns === undefined ? undefined : resolveNetnsPath(netns);
  await removeRuleSet(path, 'v4', HOST_OWNED_CHAINS);
  await removeRuleSet(path, 'v6', HOST_OWNED_CHAINS);
}
