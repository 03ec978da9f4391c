// Upstream selection, mirroring Z:src/state.rs `find_upstream`, `find_upstream_from_service`, `load_balance`
// and `pick_workload_destination_or_resolve`.
import { workload, type Workload } from '@mesh/api';
import { isIpv6Text, type Endpoint, type MeshState } from '../../state/index';
import { NoValidDestinationError } from './errors';

/** Standard: a user-addressed service. Waypoint: resolving a waypoint service (port need not be on it). */
export type ResolutionMode = 'standard' | 'waypoint';

export interface Upstream {
  readonly workload: Workload;
  /**
   * Selected workload IP; undefined for workloads reachable through a network gateway or by their `hostname`
   * (DNS ServiceEntry endpoint: resolved at connect time).
   */
  readonly ip: string | undefined;
  readonly port: number;
  /** Service-level subject_alt_names (the workload identity is added by the caller). */
  readonly serviceSans: readonly string[];
  readonly service?: workload.Service;
}

export type UpstreamDestination =
  | { readonly kind: 'parts'; readonly workload: Workload; readonly port: number; readonly service?: workload.Service }
  | { readonly kind: 'original' };

export type LbStrategy = 'random' | 'round-robin';

/** Picks among candidate endpoints; round-robin keeps a cursor per service key. */
export class EndpointPicker {
  private readonly cursors = new Map<string, number>();

  constructor(
    readonly strategy: LbStrategy = 'random',
    private readonly random: () => number = Math.random,
  ) {}

  pick<T extends { readonly workload: Workload }>(serviceKey: string, options: readonly T[]): T | undefined {
    if (options.length === 0) return undefined;
    if (this.strategy === 'round-robin') {
      const i = this.cursors.get(serviceKey) ?? 0;
      this.cursors.set(serviceKey, (i + 1) % options.length);
      return options[i % options.length];
    }
    // ztunnel `choose_weighted` by capacity (default 1); all-zero weights -> no choice.
    let total = 0;
    for (const o of options) total += o.workload.capacity ?? 1;
    if (total <= 0) return undefined;
    let r = this.random() * total;
    for (const o of options) {
      r -= o.workload.capacity ?? 1;
      if (r < 0) return o;
    }
    return options[options.length - 1];
  }
}

interface Candidate {
  readonly endpoint: Endpoint;
  readonly workload: Workload;
}

function healthAllowed(svc: workload.Service, wl: Workload): boolean {
  // ztunnel `should_include_endpoint`: healthy, or the service's health policy is ALLOW_ALL.
  return wl.status === workload.WorkloadStatus.HEALTHY || svc.loadBalancing?.healthPolicy === workload.LoadBalancing_HealthPolicy.ALLOW_ALL;
}

function candidateOk(state: MeshState, src: Workload, svc: workload.Service, ep: Endpoint, wl: Workload, svcPort: number, mode: ResolutionMode): boolean {
  if (!healthAllowed(svc, wl)) return false;
  const hasAddress = state.workloadIps(wl).length > 0 || wl.hostname !== '';
  // No IP: only reachable through a network gateway on another network.
  if (!hasAddress && (wl.network === src.network || wl.networkGateway === undefined)) return false;
  const target = state.servicePorts(svc).get(svcPort);
  if (mode === 'standard') return (target ?? 0) !== 0 || ep.ports.has(svcPort);
  return target !== undefined || wl.applicationTunnel !== undefined;
}

function scopeMatches(scope: workload.LoadBalancing_Scope, src: Workload, wl: Workload): boolean {
  const S = workload.LoadBalancing_Scope;
  switch (scope) {
    case S.REGION:
      return src.locality?.region === wl.locality?.region;
    case S.ZONE:
      return src.locality?.zone === wl.locality?.zone;
    case S.SUBZONE:
      return src.locality?.subzone === wl.locality?.subzone;
    case S.NODE:
      return src.node === wl.node;
    case S.CLUSTER:
      return src.clusterId === wl.clusterId;
    case S.NETWORK:
      return src.network === wl.network;
    default:
      return false;
  }
}

/** STRICT/FAILOVER locality ranking: keep the best-ranked; STRICT drops anything not matching every scope. */
function rank(src: Workload, svc: workload.Service, cands: Candidate[]): Candidate[] {
  const lb = svc.loadBalancing;
  const M = workload.LoadBalancing_Mode;
  if (lb === undefined || (lb.mode !== M.STRICT && lb.mode !== M.FAILOVER)) return cands;
  const ranked: { r: number; c: Candidate }[] = [];
  for (const c of cands) {
    let r = 0;
    for (const scope of lb.routingPreference) {
      if (!scopeMatches(scope, src, c.workload)) break;
      r++;
    }
    if (lb.mode === M.STRICT && r !== lb.routingPreference.length) continue;
    ranked.push({ r, c });
  }
  const max = Math.max(...ranked.map((x) => x.r));
  return ranked.filter((x) => x.r === max).map((x) => x.c);
}

export function loadBalance(state: MeshState, picker: EndpointPicker, src: Workload, svc: workload.Service, svcPort: number, mode: ResolutionMode): Candidate | undefined {
  const key = `${svc.namespace}/${svc.hostname}`;
  if (mode === 'standard' && !state.servicePorts(svc).has(svcPort)) return undefined;
  const cands: Candidate[] = [];
  for (const ep of state.endpointsOf(key).values()) {
    const wl = state.workloadByUid(ep.workloadUid);
    if (wl !== undefined && candidateOk(state, src, svc, ep, wl, svcPort, mode)) cands.push({ endpoint: ep, workload: wl });
  }
  return picker.pick(key, rank(src, svc, cands));
}

/** ztunnel `find_upstream_from_service`: endpoint port first, then the service target port, then app tunnel. */
export function upstreamFromService(state: MeshState, picker: EndpointPicker, src: Workload, svcPort: number, mode: ResolutionMode, svc: workload.Service): UpstreamDestination | undefined {
  const c = loadBalance(state, picker, src, svc, svcPort, mode);
  if (c === undefined) return undefined;
  const svcTarget = state.servicePorts(svc).get(svcPort) ?? 0;
  const epTarget = c.endpoint.ports.get(svcPort);
  let port: number;
  if (epTarget !== undefined) port = epTarget;
  else if (svcTarget > 0) port = svcTarget;
  else if (c.workload.applicationTunnel !== undefined && c.workload.applicationTunnel.port !== 0) port = svcPort;
  else return undefined;
  return { kind: 'parts', workload: c.workload, port, service: svc };
}

/** ztunnel `find_upstream`: a service VIP (PASSTHROUGH -> original destination), else a workload IP. */
export function findUpstream(state: MeshState, picker: EndpointPicker, network: string, src: Workload, ip: string, port: number, mode: ResolutionMode): UpstreamDestination | undefined {
  const svc = state.serviceByVip(network, ip);
  if (svc !== undefined) {
    if (svc.loadBalancing?.mode === workload.LoadBalancing_Mode.PASSTHROUGH) return { kind: 'original' };
    return upstreamFromService(state, picker, src, port, mode, svc);
  }
  const wl = state.workloadByAddress(network, ip);
  return wl === undefined ? undefined : { kind: 'parts', workload: wl, port };
}

function familyAllowed(svc: workload.Service | undefined, ip: string): boolean {
  const F = workload.IPFamilies;
  switch (svc?.ipFamilies) {
    case F.IPV4_ONLY:
      return !isIpv6Text(ip);
    case F.IPV6_ONLY:
      return isIpv6Text(ip);
    default:
      return true;
  }
}

/**
 * ztunnel `pick_workload_destination_or_resolve`, minus the resolution: undefined for a workload reachable via its
 * network gateway or by hostname (the caller resolves that at connect time: the decision stays synchronous).
 */
export function pickWorkloadIp(state: MeshState, wl: Workload, originalIp: string, svc: workload.Service | undefined): string | undefined {
  const ips = state.workloadIps(wl);
  if (ips.includes(originalIp)) return originalIp;
  const allowed = ips.filter((ip) => familyAllowed(svc, ip));
  const sameFamily = allowed.find((ip) => isIpv6Text(ip) === isIpv6Text(originalIp));
  const chosen = sameFamily ?? allowed[0];
  if (chosen !== undefined) return chosen;
  if (wl.hostname !== '' || wl.networkGateway !== undefined) return undefined;
  throw new NoValidDestinationError({ workload: wl.uid, reason: 'it has no suitable IP address' });
}

export function finalizeUpstream(state: MeshState, dest: UpstreamDestination | undefined, targetIp: string): Upstream | undefined {
  if (dest === undefined || dest.kind === 'original') return undefined;
  const ip = pickWorkloadIp(state, dest.workload, targetIp, dest.service);
  return { workload: dest.workload, ip, port: dest.port, serviceSans: dest.service?.subjectAltNames ?? [], service: dest.service };
}
