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
import { probeNetns, type NetnsProbe } from './netns-builtins';
import { applyNftInPod, removeNftInPod } from './nft-apply';
import { saveTables } from './netns-iptables';
import type { SavedTable } from './save-parser';
import { applyRuleSet, removeRuleSet, type RuleSetApplyResult } from './rule-set-apply';

export interface RedirectionApplyResult {
  readonly backend: IptablesBackend;
  readonly families: readonly IpFamily[];
  /** `family/table` entries that changed; empty when the netns already had exactly these rules. */
  readonly changedTables: readonly string[];
  /** Wall time of each step (session, probe, routingAndRestore or routingAndNft), for the agent's debug timing. */
  readonly stepsMs: Readonly<Record<string, number>>;
}

/**
 * Programs ztunnel in-pod redirection inside the pod netns (Istio CreateInpodRules): policy
 * routing first, then the iptables rules (or, with `nativeNftables`, Istio's nftables backend: one
 * `nft -f` transaction for both families). Idempotent; on any failure everything this call added
 * is rolled back before the error (code CNI_IPTABLES_FAILED / CNI_NFTABLES_FAILED /
 * CNI_ROUTING_FAILED, with the command's stderr) is rethrown, so a pod is never left half-redirected.
 *
 * Latency (a CNI ADD waits on this; Istio's own path is netlink + one iptables-restore per family):
 * with the mesh-netns-exec helper, one built-in request reads lo's IPv6 state, our routing entries
 * and whether the netns holds any nftables table, over netlink; the routing writes are netlink too;
 * `ip[6]tables-save` runs only when there is something to read (a fresh pod netns has nothing, so
 * the nft backend skips it), and one `ip[6]tables-restore` per family remains, v4 and v6 side by
 * side on two helpers (each family: its routing, then its rules, in Istio's order). Without the helper
 * (or with an older one) the same steps run as processes: reads, routing writes, then restores.
 */
export async function applyInPodRedirection(
  netns: string,
  config: Partial<InPodRedirectionConfig> = {},
  exec: NetnsExecOptions = {},
): Promise<RedirectionApplyResult> {
  const clock = stepClock();
  const cfg = resolveInPodConfig(config);
  const path = resolveNetnsPath(netns);
  const bin = await detectIptablesBackend();
  return withNetnsSession(path, () => applyInNetns(path, cfg, bin.backend, clock), exec);
}

function stepClock(): { steps: Record<string, number>; mark(name: string): void } {
  let last = performance.now();
  const steps: Record<string, number> = {};
  return {
    steps,
    mark(name) {
      const now = performance.now();
      steps[name] = Math.round((now - last) * 100) / 100;
      last = now;
    },
  };
}

/** Current tables per family: none to read when the probe saw no nftables table on the nft backend. */
function currentTables(path: string, f: IpFamily, backend: IptablesBackend, probe: NetnsProbe): Promise<Map<string, SavedTable>> {
  if (backend === 'nft' && probe.nftTables[f] === 0) return Promise.resolve(new Map());
  return saveTables(path, f);
}

async function applyInNetns(
  path: string,
  cfg: InPodRedirectionConfig,
  backend: IptablesBackend,
  clock: ReturnType<typeof stepClock>,
): Promise<RedirectionApplyResult> {
  clock.mark('session');
  const families: IpFamily[] = cfg.enableIpv6 ? ['v4', 'v6'] : ['v4'];
  const probe = await probeNetns(path);
  clock.mark('probe');
  if (cfg.nativeNftables) return applyNftables(path, cfg, backend, families, probe, clock);
  if (probe !== undefined) return applyProbed(path, cfg, backend, families, probe, clock);
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
  const current = await settleAll(saves);
  clock.mark('saveAndRouting');
  if (current.error !== undefined) {
    await rollbackRouting(path, routing.done);
    throw current.error;
  }
  const applied = await settleAll(families.map((f, i) => applyRuleSet(path, buildInPodRuleSet(cfg, f), current.done[i])));
  clock.mark('restore');
  if (applied.error !== undefined) {
    for (const a of applied.done) await a.undo();
    await rollbackRouting(path, routing.done);
    throw applied.error;
  }
  return { backend, families, changedTables: applied.done.flatMap((a) => a.changedTables), stepsMs: clock.steps };
}

/** Native nftables backend: the routing of each family, then one `nft -f` transaction for both. */
async function applyNftables(
  path: string,
  cfg: InPodRedirectionConfig,
  backend: IptablesBackend,
  families: readonly IpFamily[],
  probe: NetnsProbe | undefined,
  clock: ReturnType<typeof stepClock>,
): Promise<RedirectionApplyResult> {
  const v6Routing = cfg.enableIpv6 ? (probe?.loIpv6 ?? (await loopbackHasIpv6(path))) : false;
  const routing = await settleAll(families.filter((f) => f === 'v4' || v6Routing).map((f) => applyInPodRouting(path, f, probe)));
  if (routing.error !== undefined) {
    await rollbackRouting(path, routing.done);
    throw routing.error;
  }
  let changedTables: string[];
  try {
    changedTables = await applyNftInPod(path, cfg);
  } catch (e) {
    await rollbackRouting(path, routing.done);
    throw e;
  }
  clock.mark('routingAndNft');
  return { backend, families: [...families], changedTables, stepsMs: clock.steps };
}

interface FamilyApplied {
  readonly routing: RoutingChange | undefined;
  readonly applied: RuleSetApplyResult;
}

/**
 * With the helper's probe: each family is one chain on its own helper lane (routing, then save if
 * needed, then restore), v4 and v6 side by side. Any failure undoes both families before rethrowing.
 */
async function applyProbed(
  path: string,
  cfg: InPodRedirectionConfig,
  backend: IptablesBackend,
  families: readonly IpFamily[],
  probe: NetnsProbe,
  clock: ReturnType<typeof stepClock>,
): Promise<RedirectionApplyResult> {
  const results = await settleAll(families.map((f) => applyFamily(path, f, cfg, backend, probe)));
  clock.mark('routingAndRestore');
  if (results.error !== undefined) {
    for (const r of results.done) {
      await r.applied.undo();
      if (r.routing) await rollbackInPodRouting(path, r.routing);
    }
    throw results.error;
  }
  return { backend, families: [...families], changedTables: results.done.flatMap((r) => r.applied.changedTables), stepsMs: clock.steps };
}

/** One family, in Istio's order (routes, then rules); undoes its own routing when its rules fail. */
async function applyFamily(path: string, f: IpFamily, cfg: InPodRedirectionConfig, backend: IptablesBackend, probe: NetnsProbe): Promise<FamilyApplied> {
  // Like Istio, no v6 route when IPv6 is off on lo; the v6 rules still go in.
  const routing = f === 'v4' || probe.loIpv6 ? await applyInPodRouting(path, f, probe) : undefined;
  try {
    const current = await currentTables(path, f, backend, probe);
    return { routing, applied: await applyRuleSet(path, buildInPodRuleSet(cfg, f), current) };
  } catch (e) {
    if (routing) await rollbackInPodRouting(path, routing);
    throw e;
  }
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
 * used (Istio DeleteInpodRules): jumps, ISTIO_PRERT/ISTIO_OUTPUT in every table, the istio-ambient
 * nftables tables, the fwmark rule and the table-100 route. Other rules in the netns are untouched.
 */
export async function removeInPodRedirection(netns: string, exec: NetnsExecOptions = {}): Promise<void> {
  const path = resolveNetnsPath(netns);
  await withNetnsSession(path, async () => {
    const probe = await probeNetns(path);
    await removeNftInPod(path, probe);
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
