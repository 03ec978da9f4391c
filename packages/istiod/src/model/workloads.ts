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
  type WorkloadEntry,
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
  const ip = we.spec.address ? parseIp(we.spec.address) : undefined;
  const workloadName = we.metadata.annotations?.['istio.io/autoRegistrationGroup'] ?? labels['service.istio.io/workload-name'] ?? we.metadata.name;
  const canonical = canonicalService(labels, workloadName);
  const [region = '', zone = '', subzone = ''] = (we.spec.locality ?? '').split('/');
  return create(workload.WorkloadSchema, {
    uid: workloadEntryUid(ctx.opts, namespace, we.metadata.name),
    name: we.metadata.name,
    namespace,
    ...(ip ? { addresses: [ip] } : { hostname: we.spec.address ?? '' }),
    network: we.spec.network ?? ctx.opts.network,
    clusterId: ctx.opts.clusterId,
    serviceAccount: we.spec.serviceAccount ?? '',
    services: workloadEntryServices(we, ctx.services),
    authorizationPolicies: [...ctx.policies],
    status: workload.WorkloadStatus.HEALTHY,
    trustDomain: wireTrustDomain(ctx.opts),
    workloadName,
    workloadType: workload.WorkloadType.POD,
    canonicalName: canonical.name,
    canonicalRevision: canonical.revision,
    ...(ctx.waypoint ? { waypoint: ctx.waypoint.address } : {}),
    ...(region || zone || subzone ? { locality: { region, zone, subzone } } : {}),
    ...(we.spec.weight !== undefined && we.spec.weight > 0 ? { capacity: we.spec.weight } : {}),
    ...tunnel(labels, we.metadata.annotations),
  });
}

/** constructServicesFromWorkloadEntry: WorkloadEntry `ports` map names to numbers. */
function workloadEntryServices(we: WorkloadEntry, services: readonly ServiceInfo[]): Record<string, PortListInit> {
  const wePorts = we.spec.ports ?? {};
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
