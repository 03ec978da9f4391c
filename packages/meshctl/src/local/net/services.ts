import { LocalNetError } from './errors';
import { intToIp, ipToInt, shortHash } from './names';
import type { PodState, ServicePort, ServiceState } from './state';

const SERVICE_CIDR_BASE = ipToInt('10.96.0.0');
const SERVICE_CIDR_SIZE = 1 << 20; // a /12
/** Offsets Kubernetes hands to well-known services (10.96.0.1 kubernetes, 10.96.0.10 kube-dns) stay free. */
const RESERVED_VIP_OFFSETS = new Set([0, 1, 10, SERVICE_CIDR_SIZE - 1]);

/**
 * Deterministic VIP: a hash of `<ns>/<name>` picks the slot, linear probing past VIPs already taken, so the same
 * service keeps its VIP across `down`/`up` unless it collides (then order of creation decides, as in kube).
 */
export function allocateVip(namespace: string, name: string, taken: ReadonlySet<string>): string {
  const start = parseInt(shortHash(`${namespace}/${name}`, 8), 16) % SERVICE_CIDR_SIZE;
  for (let i = 0; i < SERVICE_CIDR_SIZE; i++) {
    const off = (start + i) % SERVICE_CIDR_SIZE;
    if (RESERVED_VIP_OFFSETS.has(off)) continue;
    const ip = intToIp(SERVICE_CIDR_BASE + off);
    if (!taken.has(ip)) return ip;
  }
  throw new LocalNetError('LOCAL_NET_VIP_EXHAUSTED', `no free VIP in 10.96.0.0/12 for ${namespace}/${name}`);
}

export function selectorMatches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  const keys = Object.keys(selector);
  return keys.length > 0 && keys.every((k) => labels[k] === selector[k]);
}

/** Endpoint IPs of a service, sorted so rule order (and so the generated chains) is stable. */
export function serviceEndpointIps(svc: ServiceState, pods: readonly PodState[]): string[] {
  const ips = new Set(svc.endpointIps ?? []);
  if (svc.selector) {
    for (const p of pods) {
      if (p.namespace === svc.namespace && selectorMatches(svc.selector, p.labels)) ips.add(p.ip);
    }
  }
  return [...ips].sort((a, b) => ipToInt(a) - ipToInt(b));
}

export function portProtocol(p: ServicePort): 'tcp' | 'udp' {
  return p.protocol === 'UDP' ? 'udp' : 'tcp';
}

/** Chain names stay under iptables' 28-char limit: prefix (9) + 16 hex. */
export function svcChain(svc: ServiceState, port: ServicePort): string {
  return `MESH-SVC-${shortHash(`${svc.namespace}/${svc.name}:${port.port}/${portProtocol(port)}`, 16).toUpperCase()}`;
}

export function sepChain(svc: ServiceState, port: ServicePort, ip: string): string {
  const key = `${svc.namespace}/${svc.name}:${port.port}/${portProtocol(port)}@${ip}`;
  return `MESH-SEP-${shortHash(key, 16).toUpperCase()}`;
}
