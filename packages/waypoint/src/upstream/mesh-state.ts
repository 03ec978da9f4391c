// The little of the ambient xDS state a waypoint needs (Istio's waypoint gets the same facts as EDS): service
// VIP -> service, service -> endpoints (pod IP + target port) and each workload's identity. Fed with the
// istio.workload.Address resources istiod already serves to ztunnel.
import { workload as wl, type Address, type Workload } from '@mesh/api';
import { bytesToIp, canonicalIp, hostPort } from './ip';
import { appProtocolName } from './protocol';

export interface UpstreamWorkload {
  readonly uid: string;
  readonly name: string;
  readonly namespace: string;
  readonly ips: readonly string[];
  /** spiffe://<td>/ns/<ns>/sa/<sa>: the SAN the waypoint expects when it tunnels to this pod. */
  readonly identity: string;
  readonly workloadName: string;
  readonly canonicalName: string;
  readonly canonicalRevision: string;
  readonly clusterId: string;
  readonly healthy: boolean;
  /**
   * How the waypoint reaches it: 'hbone' (tunnel_protocol HBONE: captured by ztunnel) through an HBONE tunnel
   * to <ip>:15008; 'none' (a pod outside ambient, a WorkloadEntry, a ServiceEntry endpoint) directly over TCP,
   * plaintext or with TLS per the DestinationRule.
   */
  readonly tunnel: 'hbone' | 'none';
  /** DNS name of a hostname workload (WorkloadEntry with a DNS address); '' for IP workloads. */
  readonly hostname: string;
  /** Service key "<ns>/<hostname>" -> its port mappings for this workload. */
  readonly services: ReadonlyMap<string, readonly PortMapping[]>;
}

export interface PortMapping {
  readonly servicePort: number;
  /** 0 = same as the service port. */
  readonly targetPort: number;
}

export interface UpstreamService {
  readonly key: string;
  readonly name: string;
  readonly namespace: string;
  readonly hostname: string;
  readonly vips: readonly string[];
  readonly ports: readonly ServicePortInfo[];
}

export interface ServicePortInfo extends PortMapping {
  /** The port's appProtocol as Istio names it (HTTP, HTTP2, GRPC, TCP); '' when unset. */
  readonly protocol: string;
}

export interface Endpoint {
  readonly workload: UpstreamWorkload;
  /** The workload's IP, or its DNS name for a hostname workload (resolved when connecting). */
  readonly ip: string;
  readonly port: number;
}

export const DEFAULT_TRUST_DOMAIN = 'cluster.local';

function workloadFrom(w: Workload): UpstreamWorkload {
  const services = new Map<string, PortMapping[]>();
  for (const [key, list] of Object.entries(w.services)) {
    services.set(key, list.ports.map((p) => ({ servicePort: p.servicePort, targetPort: p.targetPort })));
  }
  const ips = w.addresses.map(bytesToIp).filter((ip): ip is string => ip !== undefined);
  const td = w.trustDomain || DEFAULT_TRUST_DOMAIN;
  return {
    uid: w.uid,
    name: w.name,
    namespace: w.namespace,
    ips,
    identity: `spiffe://${td}/ns/${w.namespace}/sa/${w.serviceAccount || 'default'}`,
    workloadName: w.workloadName || w.name,
    canonicalName: w.canonicalName,
    canonicalRevision: w.canonicalRevision,
    clusterId: w.clusterId,
    healthy: w.status === 0,
    tunnel: w.tunnelProtocol === wl.TunnelProtocol.HBONE ? 'hbone' : 'none',
    hostname: w.hostname,
    services,
  };
}

function serviceFrom(s: wl.Service): UpstreamService {
  return {
    key: `${s.namespace}/${s.hostname}`,
    name: s.name,
    namespace: s.namespace,
    hostname: s.hostname,
    vips: s.addresses.map((a) => bytesToIp(a.address)).filter((ip): ip is string => ip !== undefined),
    ports: s.ports.map((p) => ({ servicePort: p.servicePort, targetPort: p.targetPort, protocol: appProtocolName(p.appProtocol) })),
  };
}

/** Subset labels a Workload message can answer (it carries no raw pod labels). */
function matchesSubset(w: UpstreamWorkload, labels: Readonly<Record<string, string>> | undefined): boolean {
  if (labels === undefined) return true;
  for (const [k, v] of Object.entries(labels)) {
    if ((k === 'version' || k === 'service.istio.io/canonical-revision') && w.canonicalRevision !== v) return false;
    if ((k === 'app' || k === 'service.istio.io/canonical-name') && w.canonicalName !== v) return false;
  }
  return true;
}

export class UpstreamState {
  private readonly workloads = new Map<string, UpstreamWorkload>();
  private readonly services = new Map<string, UpstreamService>();
  private readonly byHost = new Map<string, UpstreamService>();
  private readonly byVipPort = new Map<string, UpstreamService>();
  private readonly byIp = new Map<string, UpstreamWorkload>();
  private readonly rr = new Map<string, number>();
  /**
   * endpoints() results until the next state change, by "host|port" (no subset) or per subset-labels object
   * (config objects are stable between WaypointConfig updates): the scan over every workload ran per request.
   */
  private endpointCache = new Map<string, readonly Endpoint[]>();
  private subsetEndpointCache = new WeakMap<object, Map<string, readonly Endpoint[]>>();

  /** Applies one delta xDS update of istio.workload.Address resources (names: workload uid, "<ns>/<hostname>"). */
  applyAddresses(updates: readonly { name: string; resource: Address }[], removed: readonly string[]): void {
    for (const name of removed) {
      this.workloads.delete(name);
      this.services.delete(name);
    }
    for (const { name, resource } of updates) {
      const t = resource.type;
      if (t.case === 'workload') this.workloads.set(name, workloadFrom(t.value));
      else if (t.case === 'service') this.services.set(name, serviceFrom(t.value));
    }
    this.reindex();
  }

  /** Test and admin entry points: insert plain messages. */
  upsertWorkload(w: Workload): void {
    this.workloads.set(w.uid, workloadFrom(w));
    this.reindex();
  }

  upsertService(s: wl.Service): void {
    const svc = serviceFrom(s);
    this.services.set(svc.key, svc);
    this.reindex();
  }

  serviceByHost(hostname: string): UpstreamService | undefined {
    return this.byHost.get(hostname);
  }

  serviceByVip(ip: string, port: number): UpstreamService | undefined {
    return this.byVipPort.get(hostPort(canonicalIp(ip), port));
  }

  workloadByIp(ip: string): UpstreamWorkload | undefined {
    return this.byIp.get(canonicalIp(ip));
  }

  allWorkloads(): IterableIterator<UpstreamWorkload> {
    return this.workloads.values();
  }

  allServices(): IterableIterator<UpstreamService> {
    return this.services.values();
  }

  /** Healthy endpoints of hostname:servicePort (optionally narrowed to a DestinationRule subset); do not mutate. */
  endpoints(hostname: string, servicePort: number, subsetLabels?: Readonly<Record<string, string>>): readonly Endpoint[] {
    let cache = this.endpointCache;
    if (subsetLabels !== undefined) {
      let c = this.subsetEndpointCache.get(subsetLabels);
      if (c === undefined) this.subsetEndpointCache.set(subsetLabels, (c = new Map()));
      cache = c;
    }
    const key = `${hostname}|${servicePort}`;
    let eps = cache.get(key);
    if (eps === undefined) cache.set(key, (eps = this.scanEndpoints(hostname, servicePort, subsetLabels)));
    return eps;
  }

  private scanEndpoints(hostname: string, servicePort: number, subsetLabels: Readonly<Record<string, string>> | undefined): Endpoint[] {
    const svc = this.byHost.get(hostname);
    if (svc === undefined) return [];
    const svcPort = svc.ports.find((p) => p.servicePort === servicePort);
    const out: Endpoint[] = [];
    for (const w of this.workloads.values()) {
      const mappings = w.services.get(svc.key);
      // A hostname workload is reachable only directly (DNS at connect time); HBONE needs a pod IP.
      const address = w.ips[0] ?? (w.tunnel === 'none' && w.hostname !== '' ? w.hostname : undefined);
      if (mappings === undefined || !w.healthy || address === undefined || !matchesSubset(w, subsetLabels)) continue;
      const m = mappings.find((p) => p.servicePort === servicePort);
      // Endpoint-specific target port first (named ports), then the service's, then the port itself.
      const port = m?.targetPort || svcPort?.targetPort || servicePort;
      out.push({ workload: w, ip: address, port });
    }
    return out;
  }

  /** Round robin over the healthy endpoints (Envoy's default LB for waypoint clusters). */
  pickEndpoint(hostname: string, servicePort: number, subsetLabels?: Readonly<Record<string, string>>): Endpoint | undefined {
    const eps = this.endpoints(hostname, servicePort, subsetLabels);
    if (eps.length === 0) return undefined;
    const key = `${hostname}:${servicePort}`;
    const n = this.rr.get(key) ?? 0;
    this.rr.set(key, n + 1);
    return eps[n % eps.length];
  }

  private reindex(): void {
    this.endpointCache = new Map();
    this.subsetEndpointCache = new WeakMap();
    this.byHost.clear();
    this.byVipPort.clear();
    this.byIp.clear();
    for (const s of this.services.values()) {
      this.byHost.set(s.hostname, s);
      for (const vip of s.vips) for (const p of s.ports) this.byVipPort.set(hostPort(vip, p.servicePort), s);
    }
    for (const w of this.workloads.values()) for (const ip of w.ips) this.byIp.set(ip, w);
  }
}
