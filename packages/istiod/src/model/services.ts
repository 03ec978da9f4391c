import { create, workload, type MessageInitShape, type Service, type ServiceEntry } from '@mesh/api';
import { parseCidr, parseIp } from './ip';
import { appProtocolFromKube, appProtocolFromName } from './protocol';
import { serviceHostname, type MeshOptions } from './options';
import type { Waypoint } from './waypoints';

/** A WDS Service plus what workloads need to join against it (I:pilot/pkg/model ServiceInfo). */
export interface ServiceInfo {
  /** `namespace/hostname`, the WDS resource name and the Workload.services map key. */
  readonly key: string;
  readonly service: workload.Service;
  readonly source: { readonly kind: 'Service' | 'ServiceEntry'; readonly namespace: string; readonly name: string };
  /** Selects pods/workload entries; undefined or empty selects none. */
  readonly selector: Readonly<Record<string, string>> | undefined;
  /** By service port: the port's name and, for Services, a named targetPort. */
  readonly portNames: ReadonlyMap<number, { readonly portName: string; readonly targetPortName: string }>;
  readonly creationTime: string;
}

type LoadBalancingInit = MessageInitShape<typeof workload.LoadBalancingSchema>;
const S = workload.LoadBalancing_Scope;

const PREFER_SAME_ZONE: LoadBalancingInit = { routingPreference: [S.NETWORK, S.REGION, S.ZONE], mode: workload.LoadBalancing_Mode.FAILOVER };
const PREFER_SAME_NODE: LoadBalancingInit = {
  routingPreference: [S.NETWORK, S.REGION, S.ZONE, S.SUBZONE, S.NODE],
  mode: workload.LoadBalancing_Mode.FAILOVER,
};

/**
 * constructService (I:pilot/pkg/serviceregistry/ambient/services.go): ExternalName services are skipped;
 * target_port is the numeric targetPort (0 when named: resolved per workload); VIPs from clusterIPs.
 */
export function serviceFromKube(svc: Service, waypoint: Waypoint | undefined, opts: MeshOptions): ServiceInfo | undefined {
  const spec = svc.spec ?? {};
  if (spec.type === 'ExternalName') return undefined;
  const namespace = svc.metadata.namespace ?? '';
  const hostname = serviceHostname(svc.metadata.name, namespace, opts);
  const vips = (spec.clusterIPs && spec.clusterIPs.length > 0 ? spec.clusterIPs : [spec.clusterIP ?? '']).filter((ip) => ip !== '' && ip !== 'None');
  const addresses: Uint8Array[] = [];
  for (const vip of vips) {
    const ip = parseIp(vip);
    if (ip === undefined) return undefined; // Istio logs and drops a service with an unparsable VIP
    addresses.push(ip);
  }
  const portNames = new Map<number, { portName: string; targetPortName: string }>();
  for (const p of spec.ports ?? []) portNames.set(p.port, { portName: p.name ?? '', targetPortName: typeof p.targetPort === 'string' ? p.targetPort : '' });
  const service = create(workload.ServiceSchema, {
    name: svc.metadata.name,
    namespace,
    hostname,
    addresses: addresses.map((address) => ({ network: opts.network, address })),
    ports: (spec.ports ?? []).map((p) => ({
      servicePort: p.port,
      targetPort: typeof p.targetPort === 'number' ? p.targetPort : 0,
      appProtocol: appProtocolFromKube(p),
    })),
    ...(waypoint ? { waypoint: waypoint.address } : {}),
    ...loadBalancing(spec),
    ipFamilies: ipFamilies(spec.ipFamilies),
    // A Kubernetes Service is always canonical for its hostname.
    canonical: true,
  });
  return {
    key: `${namespace}/${hostname}`,
    service,
    source: { kind: 'Service', namespace, name: svc.metadata.name },
    selector: spec.selector,
    portNames,
    creationTime: svc.metadata.creationTimestamp ?? '',
  };
}

function loadBalancing(spec: NonNullable<Service['spec']>): { loadBalancing?: LoadBalancingInit } {
  let lb: LoadBalancingInit | undefined;
  if (spec.internalTrafficPolicy === 'Local') {
    lb = { routingPreference: [S.NODE], mode: workload.LoadBalancing_Mode.STRICT };
  } else if (spec.trafficDistribution === 'PreferClose' || spec.trafficDistribution === 'PreferSameZone') {
    lb = { ...PREFER_SAME_ZONE };
  } else if (spec.trafficDistribution === 'PreferSameNode') {
    lb = { ...PREFER_SAME_NODE };
  }
  if (spec.publishNotReadyAddresses) lb = { ...(lb ?? {}), healthPolicy: workload.LoadBalancing_HealthPolicy.ALLOW_ALL };
  return lb ? { loadBalancing: lb } : {};
}

function ipFamilies(families: readonly string[] | undefined): workload.IPFamilies {
  if (families?.length === 2) return workload.IPFamilies.DUAL;
  if (families?.length === 1) return families[0] === 'IPv4' ? workload.IPFamilies.IPV4_ONLY : workload.IPFamilies.IPV6_ONLY;
  return workload.IPFamilies.AUTOMATIC;
}

/**
 * constructServiceEntries: one WDS Service per host, sharing addresses (CIDRs keep their length), ports
 * (target defaults to the port number) and subject alt names; resolution NONE means passthrough.
 * Auto-allocated addresses (status) are not modelled.
 */
export function servicesFromServiceEntry(se: ServiceEntry, waypoint: Waypoint | undefined, opts: MeshOptions): ServiceInfo[] {
  const namespace = se.metadata.namespace ?? '';
  const addresses: MessageInitShape<typeof workload.NetworkAddressSchema>[] = [];
  for (const a of se.spec.addresses ?? []) {
    const c = parseCidr(a);
    if (c === undefined) return []; // Istio drops the whole ServiceEntry when an address does not parse
    addresses.push({ network: opts.network, address: c.address, ...(c.length !== c.address.length * 8 ? { length: c.length } : {}) });
  }
  const ports = (se.spec.ports ?? []).map((p) => ({
    servicePort: p.number,
    targetPort: p.targetPort !== undefined && p.targetPort !== 0 ? p.targetPort : p.number,
    appProtocol: appProtocolFromName(p.protocol),
  }));
  const portNames = new Map<number, { portName: string; targetPortName: string }>();
  for (const p of se.spec.ports ?? []) portNames.set(p.number, { portName: p.name, targetPortName: '' });
  const lb: LoadBalancingInit | undefined =
    se.spec.resolution === 'NONE'
      ? { mode: workload.LoadBalancing_Mode.PASSTHROUGH, healthPolicy: workload.LoadBalancing_HealthPolicy.ALLOW_ALL }
      : undefined;
  return se.spec.hosts.map((hostname) => ({
    key: `${namespace}/${hostname}`,
    service: create(workload.ServiceSchema, {
      name: se.metadata.name,
      namespace,
      hostname,
      addresses,
      ports,
      subjectAltNames: se.spec.subjectAltNames ?? [],
      ...(waypoint ? { waypoint: waypoint.address } : {}),
      ...(lb ? { loadBalancing: lb } : {}),
    }),
    source: { kind: 'ServiceEntry' as const, namespace, name: se.metadata.name },
    selector: serviceEntrySelector(se),
    portNames,
    creationTime: se.metadata.creationTimestamp ?? '',
  }));
}

/**
 * selectWorkloadServices: per namespace and hostname a Kubernetes Service beats ServiceEntries, else the
 * oldest ServiceEntry; across namespaces the Service (or else the oldest ServiceEntry) is canonical.
 */
export function selectForHostname(candidates: readonly ServiceInfo[]): ServiceInfo[] {
  const better = (a: ServiceInfo, b: ServiceInfo): boolean =>
    b.source.kind !== 'Service' && (a.creationTime < b.creationTime || (a.creationTime === b.creationTime && a.source.name < b.source.name));
  const best = new Map<string, ServiceInfo>();
  for (const c of candidates) {
    const cur = best.get(c.source.namespace);
    if (c.source.kind === 'Service' || cur === undefined || better(c, cur)) {
      if (cur?.source.kind !== 'Service' || c.source.kind === 'Service') best.set(c.source.namespace, c);
    }
  }
  let canonical: ServiceInfo | undefined;
  for (const si of best.values()) {
    if (si.source.kind === 'Service') canonical = si;
    else if (canonical === undefined || (canonical.source.kind !== 'Service' && better(si, canonical))) canonical = si;
  }
  return [...best.values()].map((si) => {
    const isCanonical = si === canonical || si.source.kind === 'Service';
    if (si.service.canonical === isCanonical) return si;
    return { ...si, service: create(workload.ServiceSchema, { ...si.service, canonical: isCanonical }) };
  });
}

/**
 * ServiceEntry.workloadSelector is `{labels}` on the wire (and in @mesh/api's validator), though its
 * TypeScript type reuses WorkloadSelector (`matchLabels`); read both.
 */
export function serviceEntrySelector(se: ServiceEntry): Readonly<Record<string, string>> | undefined {
  const sel = se.spec.workloadSelector as { labels?: Record<string, string>; matchLabels?: Record<string, string> } | undefined;
  return sel?.labels ?? sel?.matchLabels;
}
