// Builders for Workload / Service / Authorization protos used by the tests of state, rbac and decision.
import { AddressSchema, create, security, workload, WorkloadSchema, type Address, type MessageInitShape, type Workload } from '@mesh/api';

export type MatchInit = MessageInitShape<typeof security.MatchSchema>;
import { parseIp } from './ip';
import type { ResourceUpdate } from './store';

export function ipBytes(ip: string): Uint8Array {
  const b = parseIp(ip);
  if (b === undefined) throw new Error(`bad test ip ${ip}`);
  return b;
}

export interface WorkloadInit {
  uid?: string;
  name: string;
  namespace?: string;
  ips?: string[];
  sa?: string;
  node?: string;
  network?: string;
  hbone?: boolean;
  /** service key -> [servicePort, targetPort][] */
  services?: Record<string, [number, number][]>;
  waypoint?: workload.GatewayAddress;
  policies?: string[];
  unhealthy?: boolean;
  hostname?: string;
  appTunnelPort?: number;
  canonicalName?: string;
  canonicalRevision?: string;
  workloadName?: string;
  clusterId?: string;
  trustDomain?: string;
}

export function makeWorkload(w: WorkloadInit): Workload {
  const ns = w.namespace ?? 'default';
  const services: Record<string, workload.PortList> = {};
  for (const [k, ports] of Object.entries(w.services ?? {})) {
    services[k] = create(workload.PortListSchema, {
      ports: ports.map(([servicePort, targetPort]) => ({ servicePort, targetPort })),
    });
  }
  return create(WorkloadSchema, {
    uid: w.uid ?? `Kubernetes//Pod/${ns}/${w.name}`,
    name: w.name,
    namespace: ns,
    addresses: (w.ips ?? []).map(ipBytes),
    serviceAccount: w.sa ?? '',
    trustDomain: w.trustDomain ?? '',
    node: w.node ?? '',
    network: w.network ?? '',
    tunnelProtocol: w.hbone === false ? workload.TunnelProtocol.NONE : workload.TunnelProtocol.HBONE,
    services,
    waypoint: w.waypoint,
    authorizationPolicies: w.policies ?? [],
    status: w.unhealthy === true ? workload.WorkloadStatus.UNHEALTHY : workload.WorkloadStatus.HEALTHY,
    hostname: w.hostname ?? '',
    applicationTunnel:
      w.appTunnelPort === undefined
        ? undefined
        : { protocol: workload.ApplicationTunnel_Protocol.PROXY, port: w.appTunnelPort },
    canonicalName: w.canonicalName ?? '',
    canonicalRevision: w.canonicalRevision ?? '',
    workloadName: w.workloadName ?? '',
    clusterId: w.clusterId ?? '',
  });
}

export interface ServiceInit {
  name: string;
  namespace?: string;
  hostname?: string;
  vips?: string[];
  ports?: [number, number][];
  waypoint?: workload.GatewayAddress;
  sans?: string[];
  lbMode?: workload.LoadBalancing_Mode;
  healthPolicy?: workload.LoadBalancing_HealthPolicy;
}

export function makeService(s: ServiceInit): workload.Service {
  const ns = s.namespace ?? 'default';
  return create(workload.ServiceSchema, {
    name: s.name,
    namespace: ns,
    hostname: s.hostname ?? `${s.name}.${ns}.svc.cluster.local`,
    addresses: (s.vips ?? []).map((ip) => ({ network: '', address: ipBytes(ip) })),
    ports: (s.ports ?? []).map(([servicePort, targetPort]) => ({ servicePort, targetPort })),
    waypoint: s.waypoint,
    subjectAltNames: s.sans ?? [],
    loadBalancing:
      s.lbMode === undefined && s.healthPolicy === undefined
        ? undefined
        : { mode: s.lbMode ?? 0, healthPolicy: s.healthPolicy ?? 0, routingPreference: [] },
  });
}

export function hostnameWaypoint(namespace: string, hostname: string, port = 15008): workload.GatewayAddress {
  return create(workload.GatewayAddressSchema, {
    destination: { case: 'hostname', value: { namespace, hostname } },
    hboneMtlsPort: port,
  });
}

export function addressWaypoint(ip: string, port = 15008): workload.GatewayAddress {
  return create(workload.GatewayAddressSchema, {
    destination: { case: 'address', value: { network: '', address: ipBytes(ip) } },
    hboneMtlsPort: port,
  });
}

export function wlUpdate(wl: Workload): ResourceUpdate<Address> {
  return { name: wl.uid, resource: create(AddressSchema, { type: { case: 'workload', value: wl } }) };
}

export function svcUpdate(svc: workload.Service): ResourceUpdate<Address> {
  return {
    name: `${svc.namespace}/${svc.hostname}`,
    resource: create(AddressSchema, { type: { case: 'service', value: svc } }),
  };
}

export function makePolicy(init: {
  name: string;
  namespace?: string;
  scope?: security.Scope;
  action?: security.Action;
  dryRun?: boolean;
  groups?: { rules: { matches: MatchInit[] }[] }[];
}): security.Authorization {
  return create(security.AuthorizationSchema, {
    name: init.name,
    namespace: init.namespace ?? 'default',
    scope: init.scope ?? security.Scope.NAMESPACE,
    action: init.action ?? security.Action.ALLOW,
    dryRun: init.dryRun ?? false,
    groups: (init.groups ?? []).map((g) => ({
      rules: g.rules.map((r) => ({ matches: r.matches.map((m) => create(security.MatchSchema, m)) })),
    })),
  });
}

export function exact(v: string): security.StringMatch {
  return create(security.StringMatchSchema, { matchType: { case: 'exact', value: v } });
}
export function prefix(v: string): security.StringMatch {
  return create(security.StringMatchSchema, { matchType: { case: 'prefix', value: v } });
}
export function suffix(v: string): security.StringMatch {
  return create(security.StringMatchSchema, { matchType: { case: 'suffix', value: v } });
}
export function presence(): security.StringMatch {
  return create(security.StringMatchSchema, { matchType: { case: 'presence', value: {} } });
}
export function cidr(ip: string, length: number): security.Address {
  return create(security.AddressSchema, { address: ipBytes(ip), length });
}
