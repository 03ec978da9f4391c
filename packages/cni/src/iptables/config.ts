import { isIPv4, isIPv6 } from 'node:net';
import { DEFAULT_HOST_PROBE_SNAT_IPV4, DEFAULT_HOST_PROBE_SNAT_IPV6 } from './constants';
import { CniRedirectionError } from './errors';

/**
 * In-pod redirection settings. Field names follow Istio's IptablesConfig (cni/pkg/iptables/iptables.go)
 * and PodLevelOverrides; the env/helm name each one mirrors is given beside it.
 */
export interface InPodRedirectionConfig {
  /** REDIRECT_DNS (helm `cni.ambient.dnsCapture`): capture DNS to ztunnel's proxy on 15053. */
  readonly redirectDns: boolean;
  /** ENABLE_INBOUND_IPV6 (helm `cni.ambient.ipv6`): also program ip6tables and the v6 route. */
  readonly enableIpv6: boolean;
  /** HOST_PROBE_SNAT_IP: source address of kubelet probes after the host-side SNAT. */
  readonly hostProbeSnatIpv4: string;
  /** HOST_PROBE_SNAT_IPV6. */
  readonly hostProbeSnatIpv6: string;
  /** Pod override from annotation `ambient.istio.io/bypass-inbound-capture`: leave inbound uncaptured. */
  readonly ingressMode: boolean;
  /** Pod override (kubevirt etc.): inbound TCP on these interfaces is treated as outbound (-> 15001). */
  readonly virtualInterfaces: readonly string[];
  /** NATIVE_NFTABLES (helm `global.nativeNftables`): program nftables `inet` tables instead of iptables. */
  readonly nativeNftables: boolean;
}

export const DEFAULT_INPOD_REDIRECTION_CONFIG: InPodRedirectionConfig = Object.freeze({
  redirectDns: true,
  enableIpv6: true,
  hostProbeSnatIpv4: DEFAULT_HOST_PROBE_SNAT_IPV4,
  hostProbeSnatIpv6: DEFAULT_HOST_PROBE_SNAT_IPV6,
  ingressMode: false,
  virtualInterfaces: Object.freeze([]) as readonly string[],
  nativeNftables: false,
});

// Linux interface names: at most 15 bytes, no whitespace or '/'. Checked because names are spliced
// into iptables-restore input, where a newline would inject rules.
const INTERFACE_NAME_RE = /^[A-Za-z0-9_.:@-]{1,15}$/;

/** Fills defaults and validates; throws CNI_INVALID_CONFIG naming the bad field. */
export function resolveInPodConfig(partial: Partial<InPodRedirectionConfig> = {}): InPodRedirectionConfig {
  const cfg: InPodRedirectionConfig = { ...DEFAULT_INPOD_REDIRECTION_CONFIG, ...partial };
  if (!isIPv4(cfg.hostProbeSnatIpv4)) {
    throw invalid(`hostProbeSnatIpv4 must be an IPv4 address (HOST_PROBE_SNAT_IP), got ${JSON.stringify(cfg.hostProbeSnatIpv4)}`);
  }
  if (!isIPv6(cfg.hostProbeSnatIpv6)) {
    throw invalid(`hostProbeSnatIpv6 must be an IPv6 address (HOST_PROBE_SNAT_IPV6), got ${JSON.stringify(cfg.hostProbeSnatIpv6)}`);
  }
  for (const name of cfg.virtualInterfaces) {
    if (!INTERFACE_NAME_RE.test(name)) {
      throw invalid(`virtualInterfaces entry ${JSON.stringify(name)} is not a valid interface name`);
    }
  }
  return Object.freeze({ ...cfg, virtualInterfaces: Object.freeze([...cfg.virtualInterfaces]) });
}

function invalid(message: string): CniRedirectionError {
  return new CniRedirectionError('CNI_INVALID_CONFIG', message);
}
