// Values mirrored from Istio's cni/pkg/iptables/iptables.go and cni/pkg/config/config.go.
// ztunnel's in-pod listeners and the kernel rules must agree on every one of them.

/** Packet mark ztunnel sets (SO_MARK) on every socket it owns in a pod: "this packet comes from ztunnel". */
export const INPOD_MARK = 0x539; // 1337, ztunnel's PACKET_MARK default
export const INPOD_MASK = 0xfff;
/** Connection mark for connections ztunnel opened to the app with a spoofed source (routed back via table 100). */
export const INPOD_TPROXY_MARK = 0x111;
export const INPOD_TPROXY_MASK = 0xfff;
/** Mask used when restoring the connmark onto reply packets (whole 32-bit mark). */
export const INPOD_RESTORE_MASK = 0xffffffff;

export const CHAIN_INPOD_PREROUTING = 'ISTIO_PRERT';
export const CHAIN_INPOD_OUTPUT = 'ISTIO_OUTPUT';
export const CHAIN_HOST_POSTROUTING = 'ISTIO_POSTRT';

/** Policy-routing table that delivers marked replies locally (`ip route add local 0.0.0.0/0 dev lo table 100`). */
export const ROUTE_TABLE_INBOUND = 100;
/** Priority of `ip rule add fwmark 0x111/0xfff lookup 100`; just below the main table's 32766. */
export const INPOD_MARK_IP_RULE_PRIORITY = 32764;

export const ZTUNNEL_OUTBOUND_PORT = 15001;
export const ZTUNNEL_INBOUND_PLAINTEXT_PORT = 15006;
/** HBONE port: reached directly, never redirected. */
export const ZTUNNEL_INBOUND_HBONE_PORT = 15008;
export const ZTUNNEL_DNS_CAPTURE_PORT = 15053;
export const DNS_PORT = 53;
/** Conntrack zone isolating ztunnel<->upstream DNS flows (istio/istio#33469). */
export const DNS_CONNTRACK_ZONE = 1;

/** Source the host SNATs kubelet probes to, so in-pod rules can exempt them (HOST_PROBE_SNAT_IP). */
export const DEFAULT_HOST_PROBE_SNAT_IPV4 = '169.254.7.127';
/** IPv6 twin (HOST_PROBE_SNAT_IPV6). */
export const DEFAULT_HOST_PROBE_SNAT_IPV6 = 'fd16:9254:7127:1337:ffff:ffff:ffff:ffff';

/** ipset of enrolled pod IPs; the host SNATs node-local probes towards them. */
export const PROBE_IPSET_V4 = 'istio-inpod-probes-v4';
export const PROBE_IPSET_V6 = 'istio-inpod-probes-v6';

export const LOOPBACK_CIDR_V4 = '127.0.0.1/32';
export const LOOPBACK_CIDR_V6 = '::1/128';

export type IpFamily = 'v4' | 'v6';
export type IptablesTable = 'raw' | 'mangle' | 'nat' | 'filter';

export function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

export function markSpec(mark: number, mask: number): string {
  return `${hex(mark)}/${hex(mask)}`;
}
