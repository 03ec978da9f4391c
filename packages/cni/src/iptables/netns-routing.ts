import type { IpFamily } from './constants';
import { CniRedirectionError } from './errors';
import { runInNetns } from './exec';
import { routingBuiltin, type NetnsProbe, type RoutingOp } from './netns-builtins';
import {
  countInpodIpRules,
  hasLoopbackRoute,
  ipRuleArgs,
  ipRuleShowArgs,
  loopbackRouteArgs,
  loopbackRouteShowArgs,
} from './routing';

/** What applyInPodRouting added, so a rollback removes exactly that and nothing pre-existing. */
export interface RoutingChange {
  readonly family: IpFamily;
  readonly addedRule: boolean;
  readonly addedRoute: boolean;
  /** Made over netlink by the helper's built-in (then undone the same way). */
  readonly builtin?: boolean;
}

const LO_IPV6_DISABLED_SYSCTL = '/proc/sys/net/ipv6/conf/lo/disable_ipv6';

async function run(netnsPath: string, argv: string[]): Promise<string> {
  const res = await runInNetns(netnsPath, argv);
  if (res.code !== 0) {
    throw new CniRedirectionError('CNI_ROUTING_FAILED', `${argv.join(' ')} failed in ${netnsPath}: ${res.stderr.trim()}`, {
      command: argv,
      stderr: res.stderr,
    });
  }
  return res.stdout;
}

// `ip route show table N` fails instead of printing nothing when the table has never had routes.
const NO_SUCH_TABLE_RE = /FIB table does not exist/;

async function showLoopbackRoutes(netnsPath: string, family: IpFamily): Promise<string> {
  const argv = loopbackRouteShowArgs(family);
  const res = await runInNetns(netnsPath, argv);
  if (res.code === 0) return res.stdout;
  if (NO_SUCH_TABLE_RE.test(res.stderr)) return '';
  throw new CniRedirectionError('CNI_ROUTING_FAILED', `${argv.join(' ')} failed in ${netnsPath}: ${res.stderr.trim()}`, {
    command: argv,
    stderr: res.stderr,
  });
}

/** Like Istio, skip v6 routing when IPv6 is disabled on lo (or absent from the kernel). */
export async function loopbackHasIpv6(netnsPath: string): Promise<boolean> {
  const res = await runInNetns(netnsPath, ['cat', LO_IPV6_DISABLED_SYSCTL]);
  return res.code === 0 && res.stdout.trim() !== '1';
}

// `ip -force -batch -` prints "Command failed -:N" after each failing line N.
const BATCH_LINE_FAILED_RE = /^Command failed -:\d+$/;

/** One `ip <family> <args>` as an `ip -batch` line (the family flag is global, given once). */
function batchLine(argv: readonly string[]): string {
  return argv.slice(2).join(' ');
}

/**
 * Reads our rule count and route presence for one family in ONE `ip` process (`-batch`, both
 * outputs concatenated: rule lines and route lines never match each other's parser). Like the
 * separate commands, a table that never had routes is not an error.
 */
async function readInPodRouting(netnsPath: string, family: IpFamily): Promise<{ ruleCount: number; routePresent: boolean }> {
  const argv = ['ip', ipRuleShowArgs(family)[1] ?? '-4', '-force', '-batch', '-'];
  const res = await runInNetns(netnsPath, argv, `${batchLine(ipRuleShowArgs(family))}\n${batchLine(loopbackRouteShowArgs(family))}\n`);
  const unexpected = res.stderr.split('\n').filter((l) => l.trim() !== '' && !NO_SUCH_TABLE_RE.test(l) && !BATCH_LINE_FAILED_RE.test(l.trim()));
  if (res.code !== 0 && unexpected.length > 0) {
    throw new CniRedirectionError('CNI_ROUTING_FAILED', `${argv.join(' ')} failed in ${netnsPath}: ${res.stderr.trim()}`, {
      command: argv,
      stderr: res.stderr,
    });
  }
  return { ruleCount: countInpodIpRules(res.stdout), routePresent: hasLoopbackRoute(res.stdout, family) };
}

/**
 * Adds the fwmark rule and local route for one family if missing. With a helper probe (`probe`), the
 * state is already known and the write is one netlink built-in; else one `ip -batch` process to read
 * and one to write. On a failed write both additions count as made and are rolled back (deleting
 * something that was never added fails harmlessly; pre-existing entries are never touched).
 */
export async function applyInPodRouting(netnsPath: string, family: IpFamily, probe?: NetnsProbe): Promise<RoutingChange> {
  if (probe !== undefined) return applyRoutingBuiltin(netnsPath, family, probe);
  const { ruleCount, routePresent } = await readInPodRouting(netnsPath, family);
  const change = { family, addedRule: ruleCount === 0, addedRoute: !routePresent };
  const lines: string[] = [];
  if (change.addedRoute) lines.push(batchLine(loopbackRouteArgs('replace', family)));
  if (change.addedRule) lines.push(batchLine(ipRuleArgs('add', family)));
  if (lines.length === 0) return change;
  const argv = ['ip', ipRuleArgs('add', family)[1] ?? '-4', '-batch', '-'];
  const res = await runInNetns(netnsPath, argv, `${lines.join('\n')}\n`);
  if (res.code !== 0) {
    await rollbackInPodRouting(netnsPath, change);
    throw new CniRedirectionError('CNI_ROUTING_FAILED', `${argv.join(' ')} (${lines.join('; ')}) failed in ${netnsPath}: ${res.stderr.trim()}`, {
      command: argv,
      stderr: res.stderr,
    });
  }
  return change;
}

async function applyRoutingBuiltin(netnsPath: string, family: IpFamily, probe: NetnsProbe): Promise<RoutingChange> {
  if (probe.rules[family] < 0 || probe.route[family] < 0) {
    throw new CniRedirectionError('CNI_ROUTING_FAILED', `cannot read the ${family} policy routing of ${netnsPath}; is ${family === 'v6' ? 'IPv6' : 'IPv4'} available in the kernel?`);
  }
  const change: RoutingChange = { family, addedRule: probe.rules[family] === 0, addedRoute: probe.route[family] === 0, builtin: true };
  const ops: RoutingOp[] = [...(change.addedRoute ? (['add-route'] as const) : []), ...(change.addedRule ? (['add-rule'] as const) : [])];
  if (ops.length === 0) return change;
  try {
    await routingBuiltin(netnsPath, family, ops, false);
  } catch (e) {
    await rollbackInPodRouting(netnsPath, change);
    throw e;
  }
  return change;
}

/** Undoes exactly what `change` records, in one `ip -force -batch`; best effort (must not mask the original error). */
export async function rollbackInPodRouting(netnsPath: string, change: RoutingChange): Promise<void> {
  if (change.builtin === true) {
    const ops: RoutingOp[] = [...(change.addedRule ? (['del-rule'] as const) : []), ...(change.addedRoute ? (['del-route'] as const) : [])];
    if (ops.length > 0) await routingBuiltin(netnsPath, change.family, ops, true).catch(() => undefined);
    return;
  }
  const lines: string[] = [];
  if (change.addedRule) lines.push(batchLine(ipRuleArgs('del', change.family)));
  if (change.addedRoute) lines.push(batchLine(loopbackRouteArgs('del', change.family)));
  if (lines.length === 0) return;
  const flag = ipRuleArgs('del', change.family)[1] ?? '-4';
  await runInNetns(netnsPath, ['ip', flag, '-force', '-batch', '-'], `${lines.join('\n')}\n`).catch(() => undefined);
}

/** Removes every copy of our fwmark rule and our local route for one family, if present. */
export async function removeInPodRouting(netnsPath: string, family: IpFamily): Promise<void> {
  const ruleShow = await runInNetns(netnsPath, ipRuleShowArgs(family));
  if (ruleShow.code !== 0) return; // family unsupported in this kernel: nothing of ours can exist
  for (let n = countInpodIpRules(ruleShow.stdout); n > 0; n--) await run(netnsPath, ipRuleArgs('del', family));
  if (hasLoopbackRoute(await showLoopbackRoutes(netnsPath, family), family)) {
    await run(netnsPath, loopbackRouteArgs('del', family));
  }
}
