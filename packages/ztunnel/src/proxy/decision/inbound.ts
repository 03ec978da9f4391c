// Inbound HBONE helpers mirroring Z:src/proxy/inbound.rs `validate_destination` and `resolve_inbound_target`.
import { workload, type Workload } from '@mesh/api';
import type { MeshError } from '@mesh/core';
import { canonicalIp, canonicalIpFromBytes, isIpv6Text, serviceKey, type MeshState } from '../../state/index';
import { BadAuthorityError, IpMismatchError, NoPortForServiceError, SelfCallError, UnknownHostnameError } from './errors';
import { ILLEGAL_PORTS } from './ports';

export type HboneTarget =
  | { readonly kind: 'ip'; readonly ip: string; readonly port: number }
  | { readonly kind: 'hostname'; readonly hostname: string; readonly port: number };

export type InboundResult<T> =
  | ({ readonly ok: true } & T)
  | { readonly ok: false; readonly status: 400 | 503; readonly error: MeshError };

const MAX_PORT = 65535;

function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= MAX_PORT ? n : undefined;
}

/** Parse a CONNECT :authority: `ip:port`, `[v6]:port` or `hostname:port` (ztunnel tries a SocketAddr first). */
export function parseAuthority(authority: string): HboneTarget | undefined {
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']:');
    if (close < 0) return undefined;
    const ip = canonicalIp(authority.slice(1, close));
    const port = parsePort(authority.slice(close + 2));
    return ip === undefined || port === undefined || !isIpv6Text(authority.slice(1, close)) ? undefined : { kind: 'ip', ip, port };
  }
  const colon = authority.lastIndexOf(':');
  if (colon <= 0 || authority.indexOf(':') !== colon) return undefined; // bare v6 without brackets is invalid
  const host = authority.slice(0, colon);
  const port = parsePort(authority.slice(colon + 1));
  if (port === undefined) return undefined;
  const ip = canonicalIp(host);
  if (ip !== undefined) return { kind: 'ip', ip, port };
  if (!/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host) || /^[\d.]+$/.test(host)) return undefined;
  return { kind: 'hostname', hostname: host, port };
}

/** Does the HBONE target (a service or workload at `ip`) have `local` as its waypoint? ("waypoint sandwich") */
function localIsTargetsWaypoint(state: MeshState, network: string, ip: string, local: Workload, localIp: string): boolean {
  const target = state.findAddress(network, ip);
  if (target === undefined) return false;
  const gw = target.kind === 'service' ? target.service.waypoint : target.workload.waypoint;
  const d = gw?.destination;
  if (d === undefined || d.case === undefined) return false;
  const wp = d.case === 'hostname' ? state.findHostname(d.value.namespace, d.value.hostname) : state.findAddress(d.value.network, canonicalIpFromBytes(d.value.address) ?? '');
  if (wp === undefined) return false;
  if (wp.kind === 'service') return state.endpointsOf(serviceKey(wp.service.namespace, wp.service.hostname)).has(local.uid);
  return state.workloadIps(wp.workload).includes(localIp);
}

/**
 * The authority IP must be the connection's local IP, except: a hostname authority; a workload with an
 * application_tunnel (it gets the target in the PROXY header); or this workload being the target's waypoint.
 * Otherwise 400 (IPMismatch).
 */
export function validateInboundAuthority(authority: string | HboneTarget, localIp: string, local: Workload, state: MeshState): InboundResult<{ target: HboneTarget }> {
  const target = typeof authority === 'string' ? parseAuthority(authority) : authority;
  if (target === undefined) return { ok: false, status: 400, error: new BadAuthorityError({ authority: String(authority) }) };
  if (target.kind === 'hostname') return { ok: true, target };
  const lip = canonicalIp(localIp) ?? localIp;
  if (target.ip === lip || local.applicationTunnel !== undefined) return { ok: true, target };
  if (localIsTargetsWaypoint(state, local.network, target.ip, local, lip)) return { ok: true, target };
  return { ok: false, status: 400, error: new IpMismatchError({ localIp: lip, authorityIp: target.ip }) };
}

export interface InboundUpstream {
  /** Always the local pod IP: inbound never leaves the pod. */
  readonly ip: string;
  readonly port: number;
  /** Candidate services for metrics (the hostname's service, or every service of this workload). */
  readonly services: readonly workload.Service[];
  /** Set when the workload asked for PROXY protocol via application_tunnel. */
  readonly tunnel?: { readonly protocol: workload.ApplicationTunnel_Protocol; readonly target: string };
}

function hostnameService(state: MeshState, hostname: string, local: Workload): workload.Service | undefined {
  const all = state.servicesByHostname(hostname);
  // ztunnel prefers a service in the workload's own namespace.
  return all.find((s) => s.namespace === local.namespace) ?? all[0];
}

function tunnelTargetFor(state: MeshState, t: HboneTarget, svc: workload.Service | undefined, network: string): string | undefined {
  if (t.kind === 'ip') return isIpv6Text(t.ip) ? `[${t.ip}]:${t.port}` : `${t.ip}:${t.port}`;
  // PROXY cannot carry hostnames: use a VIP of the service, same network first, IPv4 preferred.
  const vips = svc === undefined ? [] : state.serviceVips(svc);
  const score = (v: { network: string; ip: string }): number => (v.network !== network ? 0 : isIpv6Text(v.ip) ? 1 : 2);
  const best = [...vips].sort((a, b) => score(b) - score(a))[0];
  return best === undefined ? undefined : isIpv6Text(best.ip) ? `[${best.ip}]:${t.port}` : `${best.ip}:${t.port}`;
}

/** Resolve which local port an inbound HBONE stream goes to (service port -> target port for hostnames). */
export function resolveInboundPort(
  target: HboneTarget,
  localIp: string,
  local: Workload,
  state: MeshState,
  illegalPorts: ReadonlySet<number> = ILLEGAL_PORTS,
): InboundResult<{ upstream: InboundUpstream }> {
  const ip = canonicalIp(localIp) ?? localIp;
  let port: number;
  let services: workload.Service[];
  if (target.kind === 'hostname') {
    const svc = hostnameService(state, target.hostname, local);
    if (svc === undefined) return { ok: false, status: 503, error: new UnknownHostnameError({ hostname: target.hostname }) };
    const epPort = state.endpointsOf(serviceKey(svc.namespace, svc.hostname)).get(local.uid)?.ports.get(target.port);
    const svcPort = state.servicePorts(svc).get(target.port) ?? 0;
    port = epPort ?? svcPort;
    if (port === 0) return { ok: false, status: 503, error: new NoPortForServiceError({ hostname: target.hostname, port: target.port }) };
    services = [svc];
  } else {
    port = target.port;
    services = state.servicesOfWorkload(local);
  }
  if (illegalPorts.has(port)) return { ok: false, status: 503, error: new SelfCallError({ ip, port }) };
  const at = local.applicationTunnel;
  if (at === undefined) return { ok: true, upstream: { ip, port, services } };
  const tunnelTarget = tunnelTargetFor(state, target, services[0], local.network);
  if (tunnelTarget === undefined) return { ok: false, status: 503, error: new UnknownHostnameError({ hostname: `${target.kind === 'hostname' ? target.hostname : ''} (no VIP)` }) };
  return { ok: true, upstream: { ip, port: at.port !== 0 ? at.port : port, services, tunnel: { protocol: at.protocol, target: tunnelTarget } } };
}
