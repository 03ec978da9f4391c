import {
  INPOD_MARK_IP_RULE_PRIORITY,
  INPOD_TPROXY_MARK,
  INPOD_TPROXY_MASK,
  ROUTE_TABLE_INBOUND,
  markSpec,
  type IpFamily,
} from './constants';

/**
 * Policy routing for in-pod mode (Istio cni/pkg/iptables/iptables_linux.go, done there via netlink):
 *   ip rule add fwmark 0x111/0xfff pref 32764 lookup 100
 *   ip route add local 0.0.0.0/0 dev lo table 100      (::/0 for v6)
 * Replies of ztunnel's spoofed-source connections carry the restored 0x111 mark and are delivered
 * locally, back to ztunnel's transparent socket, instead of leaving the pod.
 */
const FWMARK = markSpec(INPOD_TPROXY_MARK, INPOD_TPROXY_MASK);
const PREF = String(INPOD_MARK_IP_RULE_PRIORITY);
const TABLE = String(ROUTE_TABLE_INBOUND);

function familyFlag(family: IpFamily): string {
  return family === 'v4' ? '-4' : '-6';
}

function defaultDst(family: IpFamily): string {
  return family === 'v4' ? '0.0.0.0/0' : '::/0';
}

export function ipRuleArgs(op: 'add' | 'del', family: IpFamily): string[] {
  return ['ip', familyFlag(family), 'rule', op, 'fwmark', FWMARK, 'pref', PREF, 'lookup', TABLE];
}

/** `replace` is idempotent, like Istio's netlink.RouteReplace. */
export function loopbackRouteArgs(op: 'replace' | 'del', family: IpFamily): string[] {
  return ['ip', familyFlag(family), 'route', op, 'local', defaultDst(family), 'dev', 'lo', 'table', TABLE];
}

export function ipRuleShowArgs(family: IpFamily): string[] {
  return ['ip', familyFlag(family), 'rule', 'show', 'pref', PREF];
}

export function loopbackRouteShowArgs(family: IpFamily): string[] {
  return ['ip', familyFlag(family), 'route', 'show', 'table', TABLE];
}

/** Counts our rule in `ip rule show pref 32764` output (e.g. `32764:\tfrom all fwmark 0x111/0xfff lookup 100`). */
export function countInpodIpRules(showOutput: string): number {
  return showOutput
    .split('\n')
    .filter((l) => l.includes(`fwmark ${FWMARK}`) && new RegExp(`lookup ${TABLE}(\\s|$)`).test(l)).length;
}

/** True if `ip route show table 100` lists the local default route via lo. */
export function hasLoopbackRoute(showOutput: string, family: IpFamily): boolean {
  const dst = family === 'v4' ? /^local (default|0\.0\.0\.0\/0) dev lo\b/ : /^local (default|::\/0) dev lo\b/;
  return showOutput.split('\n').some((l) => dst.test(l.trim()));
}
