// Validation and derived data for xDS Workload / Service resources, mirroring the `TryFrom<XdsWorkload>` and
// `TryFrom<&XdsService>` conversions of Z:src/state/workload.rs and Z:src/state/service.rs: a resource that
// ztunnel cannot convert is rejected (NACK) instead of half-applied.
import { workload, type Workload } from '@mesh/api';
import { InvalidResourceError } from './errors';
import { canonicalIpFromBytes } from './ip';

/** service port -> target port (ztunnel `HashMap<u16, u16>` from a PortList; 0 = "named port, per endpoint"). */
export type PortMap = ReadonlyMap<number, number>;

export interface NetworkIp {
  readonly network: string;
  readonly ip: string;
}

/** What the store derives from a Workload once, at apply time (hot paths never re-parse bytes). */
export interface WorkloadDerived {
  readonly ips: readonly string[];
  /** `namespace/hostname` -> port mappings of this workload for that service. */
  readonly services: ReadonlyMap<string, PortMap>;
}

export interface ServiceDerived {
  readonly key: string;
  readonly vips: readonly NetworkIp[];
  readonly ports: PortMap;
}

/** `namespace/hostname`: the Service's xDS name and the key of Workload.services (I:pilot/pkg/model/service.go). */
export function serviceKey(namespace: string, hostname: string): string {
  return `${namespace}/${hostname}`;
}

/** Port lists become maps with u16 truncation, as ztunnel's `p.service_port as u16`. */
export function portMap(ports: readonly workload.Port[]): PortMap {
  const m = new Map<number, number>();
  for (const p of ports) m.set(p.servicePort & 0xffff, p.targetPort & 0xffff);
  return m;
}

function ipOrThrow(bytes: Uint8Array, what: string): string {
  const ip = canonicalIpFromBytes(bytes);
  if (ip === undefined) {
    throw new InvalidResourceError(`${what} has ${bytes.length} address bytes; an IP address must be 4 or 16 bytes`);
  }
  return ip;
}

function checkEnum(value: number, enumObj: object, what: string): void {
  if (!Object.values(enumObj).includes(value)) throw new InvalidResourceError(`${what} has unknown enum value ${value}`);
}

function checkGateway(gw: workload.GatewayAddress | undefined, what: string): void {
  if (gw === undefined) return;
  switch (gw.destination.case) {
    case 'address':
      ipOrThrow(gw.destination.value.address, `${what} address`);
      return;
    case 'hostname':
      if (gw.destination.value.hostname === '') throw new InvalidResourceError(`${what} has an empty hostname`);
      return;
    default:
      throw new InvalidResourceError(`${what} has neither a hostname nor an address`);
  }
}

export function deriveWorkload(wl: Workload): WorkloadDerived {
  if (wl.uid === '') throw new InvalidResourceError(`workload ${wl.namespace}/${wl.name} has no uid`);
  const ips = wl.addresses.map((a) => ipOrThrow(a, `workload ${wl.uid}`));
  checkEnum(wl.tunnelProtocol, workload.TunnelProtocol, `workload ${wl.uid} tunnel_protocol`);
  checkEnum(wl.status, workload.WorkloadStatus, `workload ${wl.uid} status`);
  checkGateway(wl.waypoint, `workload ${wl.uid} waypoint`);
  checkGateway(wl.networkGateway, `workload ${wl.uid} network_gateway`);
  const services = new Map<string, PortMap>();
  for (const [key, list] of Object.entries(wl.services)) {
    const slash = key.indexOf('/');
    if (slash <= 0 || slash === key.length - 1) {
      throw new InvalidResourceError(`workload ${wl.uid} services key ${JSON.stringify(key)} is not namespace/hostname`);
    }
    services.set(key, portMap(list.ports));
  }
  return { ips, services };
}

export function deriveService(svc: workload.Service): ServiceDerived {
  const key = serviceKey(svc.namespace, svc.hostname);
  if (svc.hostname === '') throw new InvalidResourceError(`service ${key} has no hostname`);
  const vips = svc.addresses.map((a) => ({ network: a.network, ip: ipOrThrow(a.address, `service ${key}`) }));
  checkGateway(svc.waypoint, `service ${key} waypoint`);
  checkEnum(svc.ipFamilies, workload.IPFamilies, `service ${key} ip_families`);
  const lb = svc.loadBalancing;
  if (lb !== undefined) {
    checkEnum(lb.mode, workload.LoadBalancing_Mode, `service ${key} load_balancing.mode`);
    checkEnum(lb.healthPolicy, workload.LoadBalancing_HealthPolicy, `service ${key} load_balancing.health_policy`);
    for (const s of lb.routingPreference) {
      // ztunnel rejects UNSPECIFIED_SCOPE as a routing preference ("invalid target").
      if (s === workload.LoadBalancing_Scope.UNSPECIFIED_SCOPE) {
        throw new InvalidResourceError(`service ${key} load_balancing has an UNSPECIFIED routing preference`);
      }
      checkEnum(s, workload.LoadBalancing_Scope, `service ${key} load_balancing.routing_preference`);
    }
  }
  return { key, vips, ports: portMap(svc.ports) };
}
