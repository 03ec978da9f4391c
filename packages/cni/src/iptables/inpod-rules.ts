import type { InPodRedirectionConfig } from './config';
import {
  CHAIN_INPOD_OUTPUT as OUT,
  CHAIN_INPOD_PREROUTING as PRERT,
  DNS_CONNTRACK_ZONE,
  DNS_PORT,
  INPOD_MARK,
  INPOD_MASK,
  INPOD_RESTORE_MASK,
  INPOD_TPROXY_MARK,
  INPOD_TPROXY_MASK,
  LOOPBACK_CIDR_V4,
  LOOPBACK_CIDR_V6,
  ZTUNNEL_DNS_CAPTURE_PORT,
  ZTUNNEL_INBOUND_HBONE_PORT,
  ZTUNNEL_INBOUND_PLAINTEXT_PORT,
  ZTUNNEL_OUTBOUND_PORT,
  hex,
  markSpec,
  type IpFamily,
} from './constants';
import { RuleSetBuilder, type RuleSet } from './rule-set';

export const INPOD_OWNED_CHAINS: readonly string[] = [PRERT, OUT];

const ZTUNNEL_MARK = markSpec(INPOD_MARK, INPOD_MASK); // 0x539/0xfff
const TPROXY_MARK = markSpec(INPOD_TPROXY_MARK, INPOD_TPROXY_MASK); // 0x111/0xfff

/**
 * The rules Istio's CNI agent writes inside a pod netns (AppendInpodRules in
 * cni/pkg/iptables/iptables.go), same order, in iptables-save canonical spelling.
 */
export function buildInPodRuleSet(cfg: InPodRedirectionConfig, family: IpFamily): RuleSet {
  const loopback = family === 'v4' ? LOOPBACK_CIDR_V4 : LOOPBACK_CIDR_V6;
  const probeSrc = family === 'v4' ? `${cfg.hostProbeSnatIpv4}/32` : `${cfg.hostProbeSnatIpv6}/128`;
  const b = new RuleSetBuilder(family, INPOD_OWNED_CHAINS);

  // Jumps into our chains; owning whole chains keeps cleanup to "remove jump, flush, delete".
  b.jump('mangle', 'PREROUTING', PRERT).jump('mangle', 'OUTPUT', OUT).jump('nat', 'OUTPUT', OUT);
  if (cfg.redirectDns) b.jump('raw', 'PREROUTING', PRERT).jump('raw', 'OUTPUT', OUT);
  b.jump('nat', 'PREROUTING', PRERT);

  // Virtual interfaces (kubevirt, DinD): their inbound is really the workload's outbound.
  for (const ifname of cfg.virtualInterfaces) {
    b.append('nat', PRERT, `-i ${ifname} -p tcp -j REDIRECT --to-ports ${ZTUNNEL_OUTBOUND_PORT}`);
    b.append('nat', PRERT, `-i ${ifname} -p tcp -j RETURN`);
  }

  if (!cfg.ingressMode) {
    // ztunnel's spoofed-source connections to the app carry mark 0x539: remember that on the
    // connection so replies can be routed back to ztunnel via table 100.
    b.append('mangle', PRERT, `-m mark --mark ${ZTUNNEL_MARK} -j CONNMARK --set-xmark ${TPROXY_MARK}`);
    // Kubelet probes arrive SNATed to the well-known probe address: let them through uncaptured.
    b.append('nat', PRERT, `-s ${probeSrc} -p tcp -m tcp -j ACCEPT`);
  }
  // ...and their replies.
  b.append('nat', OUT, `-d ${probeSrc} -p tcp -m tcp -j ACCEPT`);

  if (!cfg.ingressMode) {
    // Inbound plaintext -> 15006; HBONE (15008) lands on ztunnel's listener without redirection.
    b.append(
      'nat',
      PRERT,
      `! -d ${loopback} -p tcp -m tcp ! --dport ${ZTUNNEL_INBOUND_HBONE_PORT} -m mark ! --mark ${ZTUNNEL_MARK} ` +
        `-j REDIRECT --to-ports ${ZTUNNEL_INBOUND_PLAINTEXT_PORT}`,
    );
  }

  b.append(
    'mangle',
    OUT,
    `-m connmark --mark ${TPROXY_MARK} -j CONNMARK --restore-mark ` +
      `--nfmask ${hex(INPOD_RESTORE_MASK)} --ctmask ${hex(INPOD_RESTORE_MASK)}`,
  );

  if (cfg.redirectDns) appendDnsCapture(b, loopback);

  // Replies of ztunnel-to-app connections (restored mark): leave them alone.
  b.append('nat', OUT, `-p tcp -m mark --mark ${TPROXY_MARK} -j ACCEPT`);
  // App calling itself through its own pod IP via lo: not mesh traffic.
  b.append('nat', OUT, `! -d ${loopback} -o lo -j ACCEPT`);
  // Everything else leaving the app (not from ztunnel, not to localhost) -> ztunnel outbound.
  b.append(
    'nat',
    OUT,
    `! -d ${loopback} -p tcp -m mark ! --mark ${ZTUNNEL_MARK} -j REDIRECT --to-ports ${ZTUNNEL_OUTBOUND_PORT}`,
  );
  return b.build();
}

function appendDnsCapture(b: RuleSetBuilder, loopback: string): void {
  b.append(
    'nat',
    OUT,
    `! -o lo -p udp -m mark ! --mark ${ZTUNNEL_MARK} -m udp --dport ${DNS_PORT} ` +
      `-j REDIRECT --to-ports ${ZTUNNEL_DNS_CAPTURE_PORT}`,
  );
  b.append(
    'nat',
    OUT,
    `! -d ${loopback} -p tcp -m tcp --dport ${DNS_PORT} -m mark ! --mark ${ZTUNNEL_MARK} ` +
      `-j REDIRECT --to-ports ${ZTUNNEL_DNS_CAPTURE_PORT}`,
  );
  // Separate conntrack zone for ztunnel <-> upstream DNS so its flows never collide with the
  // app's redirected ones (istio/istio#33469).
  b.append('raw', OUT, `-p udp -m mark --mark ${ZTUNNEL_MARK} -m udp --dport ${DNS_PORT} -j CT --zone ${DNS_CONNTRACK_ZONE}`);
  b.append(
    'raw',
    PRERT,
    `-p udp -m mark ! --mark ${ZTUNNEL_MARK} -m udp --sport ${DNS_PORT} -j CT --zone ${DNS_CONNTRACK_ZONE}`,
  );
}
