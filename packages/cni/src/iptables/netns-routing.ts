import type { IpFamily } from './constants';
import { CniRedirectionError } from './errors';
import { runInNetns } from './exec';
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

/** Adds the fwmark rule and local route for one family if missing. */
export async function applyInPodRouting(netnsPath: string, family: IpFamily): Promise<RoutingChange> {
  const ruleCount = countInpodIpRules(await run(netnsPath, ipRuleShowArgs(family)));
  const routePresent = hasLoopbackRoute(await showLoopbackRoutes(netnsPath, family), family);
  const change = { family, addedRule: false, addedRoute: false };
  try {
    if (!routePresent) {
      await run(netnsPath, loopbackRouteArgs('replace', family));
      change.addedRoute = true;
    }
    if (ruleCount === 0) {
      await run(netnsPath, ipRuleArgs('add', family));
      change.addedRule = true;
    }
  } catch (e) {
    await rollbackInPodRouting(netnsPath, change);
    throw e;
  }
  return change;
}

/** Undoes exactly what `change` records; best effort (rollback must not mask the original error). */
export async function rollbackInPodRouting(netnsPath: string, change: RoutingChange): Promise<void> {
  if (change.addedRule) await runInNetns(netnsPath, ipRuleArgs('del', change.family)).catch(() => undefined);
  if (change.addedRoute) await runInNetns(netnsPath, loopbackRouteArgs('del', change.family)).catch(() => undefined);
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
