import type { InPodRedirectionConfig } from './config';
import { CHAIN_HOST_POSTROUTING, PROBE_IPSET_V4, PROBE_IPSET_V6, type IpFamily } from './constants';
import { RuleSetBuilder, type RuleSet } from './rule-set';

export const HOST_OWNED_CHAINS: readonly string[] = [CHAIN_HOST_POSTROUTING];

/**
 * Host-netns rule (AppendHostRules in Istio's cni/pkg/iptables/iptables.go): packets that originate
 * from a local socket (kubelet) towards an enrolled pod IP are SNATed to the probe address, which
 * the in-pod rules exempt from capture. Forwarded traffic (kube-proxy) has no local socket and stays
 * captured.
 */
export function buildHostProbeRuleSet(cfg: InPodRedirectionConfig, family: IpFamily): RuleSet {
  const ipset = family === 'v4' ? PROBE_IPSET_V4 : PROBE_IPSET_V6;
  const snatTo = family === 'v4' ? cfg.hostProbeSnatIpv4 : cfg.hostProbeSnatIpv6;
  return new RuleSetBuilder(family, HOST_OWNED_CHAINS)
    .jump('nat', 'POSTROUTING', CHAIN_HOST_POSTROUTING, true)
    .append(
      'nat',
      CHAIN_HOST_POSTROUTING,
      `-p tcp -m owner --socket-exists -m set --match-set ${ipset} dst -j SNAT --to-source ${snatTo}`,
    )
    .build();
}

/**
 * `ipset` argv creating the probe set the host rule matches (must exist before the rule loads).
 * `-exist` makes it idempotent. Pod IPs are added on enrollment by the node agent.
 */
export function buildProbeIpsetCreateArgs(family: IpFamily): string[] {
  const name = family === 'v4' ? PROBE_IPSET_V4 : PROBE_IPSET_V6;
  return ['ipset', 'create', name, 'hash:ip', 'family', family === 'v4' ? 'inet' : 'inet6', 'comment', '-exist'];
}

export function buildProbeIpsetDestroyArgs(family: IpFamily): string[] {
  return ['ipset', 'destroy', family === 'v4' ? PROBE_IPSET_V4 : PROBE_IPSET_V6];
}
