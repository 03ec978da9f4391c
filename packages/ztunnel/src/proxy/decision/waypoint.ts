// Waypoint resolution (Z:src/state.rs `fetch_waypoint`) and the "is the source this waypoint" check
// (Z:src/proxy.rs `check_from_waypoint` / `check_gateway_address`).
import type { workload, Workload } from '@mesh/api';
import { canonicalIpFromBytes, sameIdentity, workloadIdentity, type MeshState, type SpiffeIdentity } from '../../state/index';
import { UnknownWaypointError } from './errors';
import { finalizeUpstream, findUpstream, upstreamFromService, type EndpointPicker, type Upstream } from './upstream';

export function describeGateway(gw: workload.GatewayAddress): string {
  const d = gw.destination;
  if (d.case === 'hostname') return `${d.value.namespace}/${d.value.hostname}`;
  if (d.case === 'address') return `${d.value.network}/${canonicalIpFromBytes(d.value.address) ?? '?'}`;
  return '<empty>';
}

/**
 * Resolve a waypoint GatewayAddress to a concrete upstream. Hostname form (what istiod sends) -> the waypoint
 * Service -> one of its endpoints on port `hbone_mtls_port`, keeping the caller's IP family; address form -> the
 * workload or service at that IP.
 */
export function resolveWaypoint(
  state: MeshState,
  picker: EndpointPicker,
  gw: workload.GatewayAddress,
  src: Workload,
  originalIp: string,
  defaultHbonePort: number,
): Upstream {
  // istiod always sets hbone_mtls_port (15008); fall back to our HBONE port if a control plane leaves it 0.
  const port = gw.hboneMtlsPort !== 0 ? gw.hboneMtlsPort : defaultHbonePort;
  const d = gw.destination;
  let up: Upstream | undefined;
  if (d.case === 'address') {
    const ip = canonicalIpFromBytes(d.value.address) ?? '';
    up = finalizeUpstream(state, findUpstream(state, picker, d.value.network, src, ip, port, 'waypoint'), ip);
  } else if (d.case === 'hostname') {
    const found = state.findHostname(d.value.namespace, d.value.hostname);
    if (found === undefined) throw new UnknownWaypointError({ waypoint: describeGateway(gw), reason: 'no such service or workload' });
    const dest =
      found.kind === 'service'
        ? upstreamFromService(state, picker, src, port, 'waypoint', found.service)
        : ({ kind: 'parts', workload: found.workload, port } as const);
    up = finalizeUpstream(state, dest, originalIp);
  }
  if (up === undefined || up.ip === undefined) {
    throw new UnknownWaypointError({ waypoint: describeGateway(gw), reason: 'no usable waypoint endpoint' });
  }
  return up;
}

/**
 * True when the peer (identity + IP) is one of the workloads behind `gw`. ztunnel uses this so traffic coming
 * out of a waypoint is not sent back into the same waypoint.
 */
export function isFromGateway(state: MeshState, gw: workload.GatewayAddress | undefined, srcIdentity: SpiffeIdentity | undefined, srcIp: string): boolean {
  if (gw === undefined || srcIdentity === undefined) return false;
  const is = (wl: Workload): boolean => sameIdentity(workloadIdentity(wl), srcIdentity) && state.workloadIps(wl).includes(srcIp);
  const d = gw.destination;
  const found =
    d.case === 'hostname'
      ? state.findHostname(d.value.namespace, d.value.hostname)
      : d.case === 'address'
        ? state.findAddress(d.value.network, canonicalIpFromBytes(d.value.address) ?? '')
        : undefined;
  if (found === undefined) return false;
  if (found.kind === 'workload') return is(found.workload);
  for (const ep of state.endpointsOf(`${found.service.namespace}/${found.service.hostname}`).values()) {
    const wl = state.workloadByUid(ep.workloadUid);
    if (wl !== undefined && is(wl)) return true;
  }
  return false;
}
