import type { InPodRedirectionConfig } from './config';
import {
  DNS_CONNTRACK_ZONE,
  DNS_PORT,
  INPOD_MARK,
  INPOD_MASK,
  INPOD_TPROXY_MARK,
  INPOD_TPROXY_MASK,
  ZTUNNEL_DNS_CAPTURE_PORT,
  ZTUNNEL_INBOUND_HBONE_PORT,
  ZTUNNEL_INBOUND_PLAINTEXT_PORT,
  ZTUNNEL_OUTBOUND_PORT,
  hex,
  type IpFamily,
} from './constants';

/**
 * The native nftables backend (Istio's alternative to iptables, I:cni/pkg/nftables/nftables.go):
 * the same in-pod logic in three `inet` tables, one transaction for both IP families (`nft -f`,
 * one process instead of one ip[6]tables-restore per family) and no read-modify-write: the
 * script replaces our tables wholesale (`add` + `delete` + define), so it is idempotent by itself.
 */
export const NFT_INPOD_TABLES = ['istio-ambient-raw', 'istio-ambient-mangle', 'istio-ambient-nat'] as const;
const [RAW, MANGLE, NAT] = NFT_INPOD_TABLES;
const PRERT = 'istio-prerouting';
const OUT = 'istio-output';

const ZTUNNEL_MARK = `meta mark & ${hex(INPOD_MASK)} == ${hex(INPOD_MARK)}`;
const NOT_ZTUNNEL_MARK = `meta mark & ${hex(INPOD_MASK)} != ${hex(INPOD_MARK)}`;
const TPROXY_MARK = `meta mark & ${hex(INPOD_TPROXY_MASK)} == ${hex(INPOD_TPROXY_MARK)}`;
/** CONNMARK --set-xmark 0x111/0xfff: clear the masked bits, then set the value. */
const SET_CT_TPROXY_MARK = `ct mark set ct mark & ${hex(~INPOD_TPROXY_MASK >>> 0)} | ${hex(INPOD_TPROXY_MARK)}`;

/** Per-family spellings: the rules of one family only ever match that family's packets. */
interface FamilyWords {
  readonly proto: string;
  readonly addr: string;
  readonly loopback: string;
  readonly probeSrc: string;
}

function familyWords(cfg: InPodRedirectionConfig, f: IpFamily): FamilyWords {
  return f === 'v4'
    ? { proto: 'meta nfproto ipv4', addr: 'ip', loopback: '127.0.0.1', probeSrc: cfg.hostProbeSnatIpv4 }
    : { proto: 'meta nfproto ipv6', addr: 'ip6', loopback: '::1', probeSrc: cfg.hostProbeSnatIpv6 };
}

type Chains = Map<string, string[]>;

/**
 * Rules in the order of buildInPodRuleSet (Istio AppendInpodRules); each rule once per enabled
 * family, v4 first, so each family sees exactly its iptables rule order.
 */
function inpodChains(cfg: InPodRedirectionConfig): Record<string, Chains> {
  const fams = (cfg.enableIpv6 ? ['v4', 'v6'] : ['v4']).map((f) => familyWords(cfg, f as IpFamily));
  const t: Record<string, Chains> = { [RAW]: new Map(), [MANGLE]: new Map(), [NAT]: new Map() };
  const add = (table: string, chain: string, rule: (w: FamilyWords) => string): void => {
    const rules = t[table]?.get(chain) ?? [];
    t[table]?.set(chain, [...rules, ...fams.map(rule)]);
  };
  for (const ifname of cfg.virtualInterfaces) {
    add(NAT, PRERT, (w) => `${w.proto} iifname "${ifname}" meta l4proto tcp redirect to :${ZTUNNEL_OUTBOUND_PORT}`);
    add(NAT, PRERT, (w) => `${w.proto} iifname "${ifname}" meta l4proto tcp return`);
  }
  if (!cfg.ingressMode) {
    add(MANGLE, PRERT, (w) => `${w.proto} ${ZTUNNEL_MARK} ${SET_CT_TPROXY_MARK}`);
    add(NAT, PRERT, (w) => `${w.addr} saddr ${w.probeSrc} meta l4proto tcp accept`);
  }
  add(NAT, OUT, (w) => `${w.addr} daddr ${w.probeSrc} meta l4proto tcp accept`);
  if (!cfg.ingressMode) {
    add(NAT, PRERT, (w) => `${w.addr} daddr != ${w.loopback} tcp dport != ${ZTUNNEL_INBOUND_HBONE_PORT} ${NOT_ZTUNNEL_MARK} redirect to :${ZTUNNEL_INBOUND_PLAINTEXT_PORT}`);
  }
  // CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff: the whole ct mark becomes the mark.
  add(MANGLE, OUT, (w) => `${w.proto} ct mark & ${hex(INPOD_TPROXY_MASK)} == ${hex(INPOD_TPROXY_MARK)} meta mark set ct mark`);
  if (cfg.redirectDns) {
    add(NAT, OUT, (w) => `${w.proto} oifname != "lo" udp dport ${DNS_PORT} ${NOT_ZTUNNEL_MARK} redirect to :${ZTUNNEL_DNS_CAPTURE_PORT}`);
    add(NAT, OUT, (w) => `${w.addr} daddr != ${w.loopback} tcp dport ${DNS_PORT} ${NOT_ZTUNNEL_MARK} redirect to :${ZTUNNEL_DNS_CAPTURE_PORT}`);
    add(RAW, OUT, (w) => `${w.proto} udp dport ${DNS_PORT} ${ZTUNNEL_MARK} ct zone set ${DNS_CONNTRACK_ZONE}`);
    add(RAW, PRERT, (w) => `${w.proto} udp sport ${DNS_PORT} ${NOT_ZTUNNEL_MARK} ct zone set ${DNS_CONNTRACK_ZONE}`);
  }
  add(NAT, OUT, (w) => `${w.proto} meta l4proto tcp ${TPROXY_MARK} accept`);
  add(NAT, OUT, (w) => `${w.addr} daddr != ${w.loopback} oifname "lo" accept`);
  add(NAT, OUT, (w) => `${w.addr} daddr != ${w.loopback} meta l4proto tcp ${NOT_ZTUNNEL_MARK} redirect to :${ZTUNNEL_OUTBOUND_PORT}`);
  return t;
}

/** Base chains hooking our chains in where iptables' builtin chains are (same hooks and priorities). */
const BASE_CHAINS: Record<string, readonly (readonly [string, string, string])[]> = {
  [RAW]: [
    ['prerouting', 'type filter hook prerouting priority raw', PRERT],
    ['output', 'type filter hook output priority raw', OUT],
  ],
  [MANGLE]: [
    ['prerouting', 'type filter hook prerouting priority mangle', PRERT],
    // iptables mangle OUTPUT re-routes a packet whose mark changed: nft's `route` chain type does.
    ['output', 'type route hook output priority mangle', OUT],
  ],
  [NAT]: [
    ['prerouting', 'type nat hook prerouting priority dstnat', PRERT],
    ['output', 'type nat hook output priority -100', OUT],
  ],
};

/** The `nft -f` script that puts exactly `cfg`'s in-pod rules in place, replacing ours if present. */
export function buildInPodNftScript(cfg: InPodRedirectionConfig): string {
  const chains = inpodChains(cfg);
  const lines: string[] = [];
  for (const table of NFT_INPOD_TABLES) {
    lines.push(`add table inet ${table}`, `delete table inet ${table}`);
    const own = chains[table] ?? new Map<string, string[]>();
    // Like the iptables rule set, a table none of whose chains has rules is not created (raw without DNS).
    if ([...own.values()].every((r) => r.length === 0)) continue;
    lines.push(`table inet ${table} {`);
    // Our chains first: a jump must name a chain that already exists.
    for (const [name, rules] of own) {
      lines.push(`  chain ${name} {`, ...rules.map((r) => `    ${r}`), '  }');
    }
    for (const [name, spec, target] of BASE_CHAINS[table] ?? []) {
      if ((own.get(target) ?? []).length === 0) continue;
      lines.push(`  chain ${name} {`, `    ${spec}; policy accept;`, `    jump ${target}`, '  }');
    }
    lines.push('}');
  }
  return `${lines.join('\n')}\n`;
}

/** Removes our tables, present or not, in one transaction (Istio DeleteInpodRules, nftables flavour). */
export function buildNftRemovalScript(): string {
  return `${NFT_INPOD_TABLES.flatMap((t) => [`add table inet ${t}`, `delete table inet ${t}`]).join('\n')}\n`;
}
