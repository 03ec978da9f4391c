// The outbound decision: where a connection captured on 15001 goes, in the order of ztunnel's
// `OutboundConnection::build_request` (Z:src/proxy/outbound.rs):
//   0. loopback/self + one of ztunnel's ports -> SelfCall;
//   1. destination is a Service VIP with a waypoint -> HBONE to the waypoint, authority = VIP:port;
//   2. pick an upstream (service endpoint or workload); none: NoHealthyUpstream for a known, non-PASSTHROUGH
//      service, else passthrough TCP to the original destination;
//   3. upstream on another network -> double HBONE (not supported here: typed error);
//   4. workload-addressed, the workload has a waypoint and we are not that waypoint -> HBONE to the waypoint;
//   5. HBONE to podIP:15008 with authority podIP:targetPort if the workload speaks HBONE, else TCP podIP:targetPort;
//      a workload with only a hostname (DNS ServiceEntry endpoint) is TCP to <resolved IP>:targetPort, the
//      resolution left to the connect step (plan.dns) as ztunnel's `resolve_on_demand_dns`.
import { workload, type Workload } from '@mesh/api';
import { canonicalIp, formatSocketAddr, identityOf, isIpv6Text, isLoopback, parseSpiffeUri, workloadIdentity, type MeshState } from '../../state/index';
import { CrossNetworkUnsupportedError, NoHealthyUpstreamError, NoValidDestinationError, SelfCallError } from './errors';
import { HBONE_PORT, ILLEGAL_PORTS } from './ports';
import { EndpointPicker, finalizeUpstream, findUpstream, type Upstream } from './upstream';
import { isFromGateway, resolveWaypoint } from './waypoint';

export interface SocketAddress {
  readonly ip: string;
  readonly port: number;
}

export interface ServiceRef {
  readonly hostname: string;
  readonly name: string;
  readonly namespace: string;
}

export type OutboundRoute = 'service-waypoint' | 'workload-waypoint' | 'direct' | 'passthrough';

/** A next hop known by name only: the connect step resolves `hostname` and dials <resolved IP>:nextHop.port. */
export interface DnsTarget {
  readonly hostname: string;
  /** Prefer IPv6 answers (the client dialed an IPv6 address), as ztunnel matches the request's family. */
  readonly preferIpv6: boolean;
}

export interface OutboundPlan {
  readonly kind: 'hbone' | 'tcp' | 'passthrough';
  readonly route: OutboundRoute;
  /** Where the TCP connection goes (a pod's 15008 for HBONE); with `dns`, ip is the hostname to resolve. */
  readonly nextHop: SocketAddress;
  /** Only for kind 'tcp' to a hostname-only workload: resolve before connecting. */
  readonly dns?: DnsTarget;
  /** HBONE :authority. */
  readonly authority?: string;
  /** SPIFFE URIs the next hop's certificate must carry one of. */
  readonly expectedSans?: readonly string[];
  /** The workload actually connected to (the waypoint when going through one), as ztunnel's actual_destination_workload. */
  readonly dstWorkload?: Workload;
  /** The service the client addressed, when it addressed one. */
  readonly dstService?: ServiceRef;
}

export interface OutboundRequest {
  readonly sourceWorkload: Workload;
  readonly originalDst: SocketAddress;
  /** Client socket IP; defaults to the source workload's first IP (in-pod mode: they are the same). */
  readonly sourceIp?: string;
}

export interface OutboundOptions {
  readonly hbonePort?: number;
  readonly illegalPorts?: ReadonlySet<number>;
  readonly picker?: EndpointPicker;
}

const defaultPicker = new EndpointPicker();

export function serviceRef(svc: workload.Service): ServiceRef {
  return { hostname: svc.hostname, name: svc.name, namespace: svc.namespace };
}

/** ztunnel `workload_and_services_san`: valid service SANs, then the workload identity. */
function expectedSans(up: Upstream): string[] {
  const out = up.serviceSans.filter((s) => parseSpiffeUri(s) !== undefined);
  out.push(identityOf(up.workload));
  return out;
}

function checkSelfCall(req: OutboundRequest, state: MeshState, ip: string, illegal: ReadonlySet<number>): void {
  if (!illegal.has(req.originalDst.port)) return;
  // ztunnel checks loopback only; a pod dialing its own IP on these ports loops the same way in-pod.
  if (isLoopback(ip) || state.workloadIps(req.sourceWorkload).includes(ip)) {
    throw new SelfCallError({ ip, port: req.originalDst.port });
  }
}

function viaWaypoint(route: OutboundRoute, wp: Upstream, target: string, svc: workload.Service | undefined): OutboundPlan {
  return {
    kind: 'hbone',
    route,
    nextHop: { ip: wp.ip as string, port: wp.port },
    authority: target,
    expectedSans: expectedSans(wp),
    dstWorkload: wp.workload,
    ...(svc === undefined ? {} : { dstService: serviceRef(svc) }),
  };
}

export function decideOutbound(req: OutboundRequest, state: MeshState, opts: OutboundOptions = {}): OutboundPlan {
  const hbonePort = opts.hbonePort ?? HBONE_PORT;
  const picker = opts.picker ?? defaultPicker;
  const src = req.sourceWorkload;
  const ip = canonicalIp(req.originalDst.ip) ?? req.originalDst.ip;
  const port = req.originalDst.port;
  const target = formatSocketAddr(ip, port);
  const srcIp = req.sourceIp === undefined ? state.workloadIps(src)[0] ?? '' : canonicalIp(req.sourceIp) ?? req.sourceIp;
  checkSelfCall(req, state, ip, opts.illegalPorts ?? ILLEGAL_PORTS);

  // (1) service VIP with a waypoint
  const service = state.serviceByVip(src.network, ip);
  if (service?.waypoint !== undefined && !isFromGateway(state, service.waypoint, workloadIdentity(src), srcIp)) {
    const wp = resolveWaypoint(state, picker, service.waypoint, src, ip, hbonePort);
    if (wp.workload.network !== src.network) throw new CrossNetworkUnsupportedError({ workload: wp.workload.uid, network: wp.workload.network });
    return viaWaypoint('service-waypoint', wp, target, service);
  }

  // (2) upstream selection
  const us = finalizeUpstream(state, findUpstream(state, picker, src.network, src, ip, port, 'standard'), ip);
  if (us === undefined) {
    if (service !== undefined && service.loadBalancing?.mode !== workload.LoadBalancing_Mode.PASSTHROUGH) {
      throw new NoHealthyUpstreamError({ service: `${service.namespace}/${service.hostname}`, port });
    }
    return { kind: 'passthrough', route: 'passthrough', nextHop: { ip, port } };
  }

  // (3) cross-network
  if (us.workload.network !== src.network) throw new CrossNetworkUnsupportedError({ workload: us.workload.uid, network: us.workload.network });

  // (4) workload waypoint, only for workload-addressed traffic and not when we are that waypoint
  if (service === undefined && us.workload.waypoint !== undefined && !isFromGateway(state, us.workload.waypoint, workloadIdentity(src), srcIp)) {
    const wp = resolveWaypoint(state, picker, us.workload.waypoint, src, ip, hbonePort);
    return viaWaypoint('workload-waypoint', wp, target, us.service);
  }

  // (5) direct
  const direct = { route: 'direct' as const, dstWorkload: us.workload, ...(us.service === undefined ? {} : { dstService: serviceRef(us.service) }) };
  if (us.ip === undefined && us.workload.hostname !== '') return toHostname(us, direct, ip);
  if (us.ip === undefined) throw new NoValidDestinationError({ workload: us.workload.uid, reason: 'it has no IP address on this network' });
  if (us.workload.tunnelProtocol === workload.TunnelProtocol.HBONE) {
    return { kind: 'hbone', nextHop: { ip: us.ip, port: hbonePort }, authority: formatSocketAddr(us.ip, us.port), expectedSans: expectedSans(us), ...direct };
  }
  return { kind: 'tcp', nextHop: { ip: us.ip, port: us.port }, ...direct };
}

function toHostname(us: Upstream, direct: Pick<OutboundPlan, 'route' | 'dstWorkload' | 'dstService'>, originalIp: string): OutboundPlan {
  const hostname = us.workload.hostname;
  if (us.workload.tunnelProtocol === workload.TunnelProtocol.HBONE) {
    throw new NoValidDestinationError({ workload: us.workload.uid, reason: `HBONE to a hostname workload (${hostname}) is not supported` });
  }
  return { kind: 'tcp', nextHop: { ip: hostname, port: us.port }, dns: { hostname, preferIpv6: isIpv6Text(originalIp) }, ...direct };
}
