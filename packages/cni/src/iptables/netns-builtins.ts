import { INPOD_MARK_IP_RULE_PRIORITY, INPOD_TPROXY_MARK, INPOD_TPROXY_MASK, ROUTE_TABLE_INBOUND, hex, type IpFamily } from './constants';
import { CniRedirectionError } from './errors';
import { familyLane, sessionFor } from './exec';

/**
 * What one `@probe` built-in of mesh-netns-exec reports about a pod netns, over netlink and without
 * a process: the state the in-pod routing step needs and whether iptables-save can be skipped.
 */
export interface NetnsProbe {
  /** IPv6 enabled on lo (Istio skips the v6 route otherwise). */
  readonly loIpv6: boolean;
  /** Copies of our fwmark rule per family; -1 when the family cannot be asked (no IPv6 in the kernel). */
  readonly rules: Readonly<Record<IpFamily, number>>;
  /** Our `local default dev lo table 100` route present (1), absent (0), cannot be asked (-1). */
  readonly route: Readonly<Record<IpFamily, number>>;
  /** nftables tables of family ip / ip6; 0 means an nft-backend iptables-save would print nothing. */
  readonly nftTables: Readonly<Record<IpFamily, number>>;
  /** nftables tables of family inet (the native nftables backend's); -1 = unknown. */
  readonly nftInetTables: number;
}

const ROUTE_ARGS = [String(INPOD_MARK_IP_RULE_PRIORITY), hex(INPOD_TPROXY_MARK), hex(INPOD_TPROXY_MASK), String(ROUTE_TABLE_INBOUND)];
/** The helper answers 127 to a built-in it does not know (an older binary): then use processes. */
const UNKNOWN_COMMAND_EXIT = 127;

const familyDigit = (f: IpFamily): string => (f === 'v4' ? '4' : '6');

/**
 * Asks the session's helper for the netns state in one built-in request; undefined when there is no
 * helper session for this netns or the helper predates the built-ins (callers then run processes).
 */
export async function probeNetns(netnsPath: string): Promise<NetnsProbe | undefined> {
  const session = sessionFor(netnsPath);
  if (session === undefined || session.builtins === false) return undefined;
  const res = await session.run(['@probe', ...ROUTE_ARGS]);
  if (res.code === UNKNOWN_COMMAND_EXIT) {
    session.builtins = false;
    return undefined;
  }
  if (res.code !== 0) {
    throw new CniRedirectionError('CNI_ROUTING_FAILED', `probing ${netnsPath} failed: ${res.stderr.trim()}`, { command: ['@probe'], stderr: res.stderr });
  }
  return parseProbe(res.stdout);
}

export function parseProbe(text: string): NetnsProbe {
  const v = new Map<string, number>();
  for (const line of text.split('\n')) {
    const parts = line.trim().split(/\s+/);
    const n = Number(parts.at(-1));
    if (parts.length >= 2 && Number.isInteger(n)) v.set(parts.slice(0, -1).join(' '), n);
  }
  const get = (k: string): number => {
    const n = v.get(k);
    if (n === undefined) throw new CniRedirectionError('CNI_ROUTING_FAILED', `mesh-netns-exec @probe did not report "${k}"; rebuild the helper`);
    return n;
  };
  const perFamily = (k: string) => ({ v4: get(`${k} v4`), v6: get(`${k} v6`) });
  return {
    loIpv6: get('lo_ipv6') === 1,
    rules: perFamily('rules'),
    route: perFamily('route'),
    nftTables: perFamily('nft_tables'),
    nftInetTables: v.get('nft_tables inet') ?? -1,
  };
}

export type RoutingOp = 'add-route' | 'add-rule' | 'del-rule' | 'del-route';

/**
 * The in-pod fwmark rule and local route over netlink in the helper (the requests `ip rule add` /
 * `ip route replace` send; Istio also uses netlink here). `force` = try every op (rollback, removal).
 */
export async function routingBuiltin(netnsPath: string, family: IpFamily, ops: readonly RoutingOp[], force: boolean): Promise<void> {
  const session = sessionFor(netnsPath);
  if (session === undefined) throw new Error(`no mesh-netns-exec session for ${netnsPath}`);
  const argv = ['@routing', familyDigit(family), force ? 'force' : 'stop', ...ROUTE_ARGS, ...ops];
  // On the family's lane: its restore follows on the same helper, in Istio's order (routes first).
  const res = await session.run(argv, '', familyLane(family));
  if (res.code !== 0) {
    throw new CniRedirectionError('CNI_ROUTING_FAILED', `in-pod routing (${ops.join(', ')}) failed in ${netnsPath}: ${res.stderr.trim()}`, {
      command: argv,
      stderr: res.stderr,
    });
  }
}
