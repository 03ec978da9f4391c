import {
  ANNOTATIONS,
  create,
  LABELS,
  REDIRECTION,
  TUNNEL_HTTP,
  workload,
  type MessageInitShape,
  type Node,
  type Pod,
  type ServiceEntry,
  type WorkloadEntry,
  type WorkloadEntrySpec,
} from '@mesh/api';
import { parseIp } from './ip';
import { canonicalService, workloadNameFromPod } from './labels';
import { wireTrustDomain, type MeshOptions } from './options';
import type { ServiceInfo } from './services';
import type { Waypoint } from './waypoints';

/** Everything a workload joins against, resolved by the index beforehand. */
export interface WorkloadContext {
  /** Services selecting this workload, sorted by key (map insertion order reaches the wire). */
  readonly services: readonly ServiceInfo[];
  readonly node?: Node;
  readonly waypoint?: Waypoint;
  /** Keys of selector policies and converted PeerAuthentications (buildWorkloadPolicies). */
  readonly policies: readonly string[];
  readonly opts: MeshOptions;
}

type PortListInit = MessageInitShape<typeof workload.PortListSchema>;

export function podUid(opts: MeshOptions, namespace: string, name: string): string {
  return `${opts.clusterId}//Pod/${namespace}/${name}`;
}

export function workloadEntryUid(opts: MeshOptions, namespace: string, name: string): string {
  return `${opts.clusterId}/networking.istio.io/WorkloadEntry/${namespace}/${name}`;
}

/** generateServiceEntryUID: one workload per ServiceEntry endpoint, keyed by the endpoint's address. */
export function serviceEntryUid(opts: MeshOptions, namespace: string, name: string, address: string): string {
  return `${opts.clusterId}/networking.istio.io/ServiceEntry/${namespace}/${name}/${address}`;
}

/** kubeutil.CheckPodTerminal. */
export function podIsTerminal(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Failed' || phase === 'Succeeded';
}

/** Pod IPs as raw bytes (podIPs, else podIP); undefined if any is garbage (Istio drops such pods). */
export function podAddresses(pod: Pod): Uint8Array[] | undefined {
  const ips = pod.status?.podIPs?.length ? pod.status.podIPs.map((p) => p.ip) : pod.status?.podIP ? [pod.status.podIP] : [];
  const out: Uint8Array[] = [];
  for (const ip of ips) {
    const b = parseIp(ip);
    if (b === undefined) return undefined;
    out.push(b);
  }
  return out;
}

/**
 * podWorkloadBuilder (I:pilot/pkg/serviceregistry/ambient/workloads.go). Every non-terminal pod with an IP
 * becomes a workload, enrolled in ambient or not, so ztunnel can reach it; only the CNI's redirection
 * annotation (or native tunnel label) makes it HBONE. workload_type is always POD like Istio
 * ("backwards compatibility"); the owner only shapes workload_name.
 */
export function workloadFromPod(pod: Pod, ctx: WorkloadContext): workload.Workload | undefined {
  if (podIsTerminal(pod)) return undefined;
  const addresses = podAddresses(pod);
  if (addresses === undefined || addresses.length === 0) return undefined;
  const namespace = pod.metadata.namespace ?? '';
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
  const workloadName = workloadNameFromPod(pod);
  const canonical = canonicalService(pod.metadata.labels, workloadName);
  const locality = nodeLocality(ctx.node);
  return create(workload.WorkloadSchema, {
    uid: podUid(ctx.opts, namespace, pod.metadata.name),
    name: pod.metadata.name,
    namespace,
    addresses,
    network: ctx.opts.network,
    clusterId: ctx.opts.clusterId,
    serviceAccount: pod.spec.serviceAccountName ?? '',
    node: pod.spec.nodeName ?? '',
    services: podServices(pod, ctx.services),
    authorizationPolicies: [...ctx.policies],
    status: ready && pod.metadata.deletionTimestamp === undefined ? workload.WorkloadStatus.HEALTHY : workload.WorkloadStatus.UNHEALTHY,
    trustDomain: wireTrustDomain(ctx.opts),
    workloadName,
    workloadType: workload.WorkloadType.POD,
    canonicalName: canonical.name,
    canonicalRevision: canonical.revision,
    networkMode: pod.spec.hostNetwork ? workload.NetworkMode.HOST_NETWORK : workload.NetworkMode.STANDARD,
    ...(ctx.waypoint ? { waypoint: ctx.waypoint.address } : {}),
    ...(locality ? { locality } : {}),
    ...tunnel(pod.metadata.labels, pod.metadata.annotations),
  });
}

/** setTunnelProtocol: the CNI annotation means HBONE; the native tunnel label also sets native_tunnel. */
function tunnel(labels: Record<string, string> | undefined, annotations: Record<string, string> | undefined): { tunnelProtocol: workload.TunnelProtocol; nativeTunnel?: boolean } {
  if (labels?.[LABELS.TUNNEL] === TUNNEL_HTTP) return { tunnelProtocol: workload.TunnelProtocol.HBONE, nativeTunnel: true };
  if (annotations?.[ANNOTATIONS.AMBIENT_REDIRECTION] === REDIRECTION.ENABLED) return { tunnelProtocol: workload.TunnelProtocol.HBONE };
  return { tunnelProtocol: workload.TunnelProtocol.NONE };
}

function nodeLocality(node: Node | undefined): MessageInitShape<typeof workload.LocalitySchema> | undefined {
  const l = node?.metadata.labels;
  if (l === undefined) return undefined;
  const region = l[LABELS.TOPOLOGY_REGION] ?? '';
  const zone = l[LABELS.TOPOLOGY_ZONE] ?? '';
  const subzone = l[LABELS.TOPOLOGY_SUBZONE] ?? '';
  return region || zone || subzone ? { region, zone, subzone } : undefined;
}

/** FindPortName: TCP container ports (and native-sidecar init containers) by name. */
function findPortName(pod: Pod, name: string): number | undefined {
  const sidecars = (pod.spec.initContainers ?? []).filter((c) => c['restartPolicy'] === 'Always');
  for (const c of [...pod.spec.containers, ...sidecars]) {
    for (const p of c.ports ?? []) if (p.name === name && (p.protocol ?? 'TCP') === 'TCP') return p.containerPort;
  }
  return undefined;
}

/** constructServices: named targetPorts resolve through the pod; a name the pod lacks drops the port. */
function podServices(pod: Pod, services: readonly ServiceInfo[]): Record<string, PortListInit> {
  const out: Record<string, PortListInit> = {};
  for (const svc of services) {
    const ports: { servicePort: number; targetPort: number }[] = [];
    for (const port of svc.service.ports) {
      let targetPort = port.targetPort;
      const named = svc.portNames.get(port.servicePort);
      if (named?.targetPortName) {
        const tp = findPortName(pod, named.targetPortName);
        if (tp === undefined) continue;
        targetPort = tp;
      } else if (svc.source.kind === 'ServiceEntry' && named?.portName) {
        const tp = findPortName(pod, named.portName);
        if (tp !== undefined) targetPort = tp;
        else if (targetPort === 0) targetPort = port.servicePort;
      }
      ports.push({ servicePort: port.servicePort, targetPort });
    }
    out[svc.key] = { ports };
  }
  return out;
}

/** WorkloadEntry labels may sit in metadata or spec; Istio merges them (ConvertClientWorkloadEntry). */
export function workloadEntryLabels(we: WorkloadEntry): Record<string, string> {
  return { ...(we.spec.labels ?? {}), ...(we.metadata.labels ?? {}) };
}

/** workloadEntryWorkloadBuilder: always HEALTHY, IP or hostname, capacity from weight, locality from spec. */
export function workloadFromWorkloadEntry(we: WorkloadEntry, ctx: WorkloadContext): workload.Workload {
  const namespace = we.metadata.namespace ?? '';
  const labels = workloadEntryLabels(we);
  return entryWorkload(
    {
      uid: workloadEntryUid(ctx.opts, namespace, we.metadata.name),
      name: we.metadata.name,
      namespace,
      spec: we.spec,
      services: ctx.services,
      workloadName: we.metadata.annotations?.['istio.io/autoRegistrationGroup'] ?? labels['service.istio.io/workload-name'] ?? we.metadata.name,
      labels,
      annotations: we.metadata.annotations,
    },
    ctx,
  );
}

interface EntryWorkloadInit {
  readonly uid: string;
  readonly name: string;
  readonly namespace: string;
  /** Address (IP, else hostname), network, service account, ports, locality, weight. */
  readonly spec: WorkloadEntrySpec;
  readonly services: readonly ServiceInfo[];
  readonly workloadName: string;
  /** Labels and annotations for the canonical names and the tunnel protocol. */
  readonly labels: Record<string, string> | undefined;
  readonly annotations: Record<string, string> | undefined;
}

/** The Workload shape WorkloadEntries and ServiceEntry endpoints share (workloads.go, both builders). */
function entryWorkload(e: EntryWorkloadInit, ctx: WorkloadContext): workload.Workload {
  const address = e.spec.address ?? '';
  const ip = parseIp(address);
  const canonical = canonicalService(e.labels, e.workloadName);
  const locality = entryLocality(e.spec.locality);
  return create(workload.WorkloadSchema, {
    uid: e.uid,
    name: e.name,
    namespace: e.namespace,
    ...(ip ? { addresses: [ip] } : { hostname: address }),
    network: e.spec.network || ctx.opts.network,
    clusterId: ctx.opts.clusterId,
    serviceAccount: e.spec.serviceAccount ?? '',
    services: workloadEntryServices(e.spec.ports, e.services),
    authorizationPolicies: [...ctx.policies],
    status: workload.WorkloadStatus.HEALTHY,
    trustDomain: wireTrustDomain(ctx.opts),
    workloadName: e.workloadName,
    workloadType: workload.WorkloadType.POD,
    canonicalName: canonical.name,
    canonicalRevision: canonical.revision,
    ...(ctx.waypoint ? { waypoint: ctx.waypoint.address } : {}),
    ...(locality ? { locality } : {}),
    ...(e.spec.weight !== undefined && e.spec.weight > 0 ? { capacity: e.spec.weight } : {}),
    ...tunnel(e.labels, e.annotations),
  });
}

/** getWorkloadEntryLocality: `region/zone/subzone`, none when all three are empty. */
function entryLocality(locality: string | undefined): MessageInitShape<typeof workload.LocalitySchema> | undefined {
  const [region = '', zone = '', subzone = ''] = (locality ?? '').split('/');
  return region || zone || subzone ? { region, zone, subzone } : undefined;
}

/** One endpoint of a ServiceEntry and the services (its winning hosts) it serves. */
export interface ServiceEntryEndpoint {
  readonly spec: WorkloadEntrySpec;
  readonly services: readonly ServiceInfo[];
  /** Made from a host of a DNS ServiceEntry without endpoints: never bound to a workload waypoint. */
  readonly implicit: boolean;
}

/**
 * The endpoints serviceEntryWorkloadBuilder (I:pilot/pkg/serviceregistry/ambient/workloads.go) builds
 * workloads for: `spec.endpoints`, each serving every host; or, for a DNS/DNS_ROUND_ROBIN ServiceEntry with
 * neither endpoints nor a workloadSelector, one implicit endpoint per host (address = the host) serving only
 * that host. `infos` are the ServiceEntry's hosts that won deduplication; none left means no workloads.
 * Wildcard hosts get no implicit endpoint (Istio's validation rejects them: "hosts must be FQDN if no
 * endpoints are provided for resolution mode DNS"); each is reported in `warnings`.
 */
export function serviceEntryEndpoints(se: ServiceEntry, infos: readonly ServiceInfo[]): { endpoints: ServiceEntryEndpoint[]; warnings: string[] } {
  const eps = se.spec.endpoints ?? [];
  const resolution = se.spec.resolution ?? 'NONE';
  const implicit = eps.length === 0 && (resolution === 'DNS' || resolution === 'DNS_ROUND_ROBIN') && se.spec.workloadSelector === undefined;
  if ((eps.length === 0 && !implicit) || infos.length === 0) return { endpoints: [], warnings: [] };
  const endpoints: ServiceEntryEndpoint[] = [];
  const warnings: string[] = [];
  if (!implicit) {
    // The address is the workload uid's last part: a repeated one would be the same workload twice.
    const seen = new Set<string>();
    eps.forEach((spec, i) => {
      const address = spec.address ?? '';
      if (seen.has(address)) {
        warnings.push(`spec.endpoints[${i}].address: ${JSON.stringify(address)} repeats an earlier endpoint; only the first becomes a workload`);
        return;
      }
      seen.add(address);
      endpoints.push({ spec, services: infos, implicit: false });
    });
    return { endpoints, warnings };
  }
  for (const si of infos) {
    const host = si.service.hostname;
    if (host.startsWith('*')) {
      const i = se.spec.hosts.indexOf(host);
      warnings.push(`spec.hosts[${i}]: wildcard host ${JSON.stringify(host)} gets no endpoint; resolution ${resolution} without endpoints needs FQDN hosts`);
      continue;
    }
    endpoints.push({ spec: { address: host }, services: [si], implicit: true });
  }
  return { endpoints, warnings };
}

/**
 * serviceEntryWorkloadBuilder, one endpoint: named after the ServiceEntry, IP address or else `hostname`
 * (resolved by whoever connects), service account/network/locality/weight from the endpoint, ports through
 * the endpoint's `ports` names, policies/canonical names/tunnel from the ServiceEntry's own labels and
 * annotations (so tunnel_protocol NONE unless it says HBONE), always HEALTHY.
 */
export function workloadFromServiceEntryEndpoint(se: ServiceEntry, ep: ServiceEntryEndpoint, ctx: WorkloadContext): workload.Workload {
  const namespace = se.metadata.namespace ?? '';
  return entryWorkload(
    {
      uid: serviceEntryUid(ctx.opts, namespace, se.metadata.name, ep.spec.address ?? ''),
      name: se.metadata.name,
      namespace,
      spec: ep.spec,
      services: ep.services,
      workloadName: se.metadata.name,
      labels: se.metadata.labels,
      annotations: se.metadata.annotations,
    },
    ctx,
  );
}

/** constructServicesFromWorkloadEntry: WorkloadEntry (and ServiceEntry endpoint) `ports` map names to numbers. */
function workloadEntryServices(entryPorts: Readonly<Record<string, number>> | undefined, services: readonly ServiceInfo[]): Record<string, PortListInit> {
  const wePorts = entryPorts ?? {};
  const out: Record<string, PortListInit> = {};
  for (const svc of services) {
    const ports: { servicePort: number; targetPort: number }[] = [];
    for (const port of svc.service.ports) {
      let targetPort = port.targetPort;
      const named = svc.portNames.get(port.servicePort);
      if (svc.source.kind === 'Service' && named) {
        if (named.targetPortName) {
          const tv = wePorts[named.targetPortName];
          if (tv === undefined) continue;
          targetPort = tv;
        } else if (wePorts[named.portName] !== undefined) {
          targetPort = wePorts[named.portName]!;
        }
      } else if (named) {
        const tv = wePorts[named.portName];
        if (tv !== undefined) targetPort = tv;
        else if (targetPort === 0) targetPort = port.servicePort;
      }
      ports.push({ servicePort: port.servicePort, targetPort });
    }
    out[svc.key] = { ports };
  }
  return out;
}
