import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Pod, Service } from '@mesh/api';
import { podEnv, type PodState } from '../net';
import { applyAll, deleteAll } from './apply';
import {
  CLUSTER_ID,
  ISTIOD_SERVER_NAME,
  TRUST_DOMAIN,
  WAYPOINT_HBONE_PORT,
  WAYPOINT_READY_PORT,
  istiodAddress,
  type IstiodPlacement,
} from './components';
import type { KubeObjectLike } from './config-dir';
import { ensureTokens, probe, READY_TIMEOUT_MS } from './control-plane';
import { ClusterError } from './errors';
import { clusterPaths, exists } from './paths';
import { containerAlive, deletePod, type PodContext } from './pods';
import { isWaypointGateway } from './waypoint-objects';
import { removeWaypointToken, writeWaypointToken } from './waypoint-tokens';
import { runningPod, scheduleNode } from './workloads';

/** Labels Istio's waypoint Deployment puts on its pods; the tunnel label makes istiod send HBONE for it. */
const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';
const MANAGED_LABEL = 'gateway.istio.io/managed';
const MANAGED_BY_MESH = 'istio.io-mesh-controller';
const POD_HASH_CHARS = 8;
const READY_POLL_MS = 250;

export interface WaypointRuntime {
  namespace: string;
  name: string;
  pod: string;
  ip?: string;
  node?: string;
  running: boolean;
}

/** `<name>-<hash>`: stable per Gateway, so a re-sync finds the running pod. */
export function waypointPodName(namespace: string, name: string): string {
  return `${name}-${createHash('sha256').update(`${namespace}/${name}`).digest('hex').slice(0, POD_HASH_CHARS)}`;
}

function waypointPods(ctx: PodContext): Array<Pod & KubeObjectLike> {
  return ctx.config.list<Pod & KubeObjectLike>('Pod').filter((p) => p.metadata.labels?.[MANAGED_LABEL] === MANAGED_BY_MESH && p.metadata.labels?.[GATEWAY_NAME_LABEL]);
}

/**
 * The local stand-in for istiod's waypoint deployment controller: every istio-waypoint Gateway gets a pod
 * running the waypoint bundle, a Service `<name>` on 15008 (the GatewayAddress hostname istiod hands out)
 * and a token; a pod whose Gateway is gone is stopped. Returns the waypoints that now run.
 */
export async function syncWaypoints(ctx: PodContext, istiod: IstiodPlacement | undefined, bundle: string): Promise<WaypointRuntime[]> {
  const gateways = ctx.config.list('Gateway').filter(isWaypointGateway);
  const want = new Set(gateways.map((g) => `${g.metadata.namespace ?? 'default'}/${g.metadata.name}`));
  for (const p of waypointPods(ctx)) {
    const ns = p.metadata.namespace ?? 'default';
    const gw = p.metadata.labels?.[GATEWAY_NAME_LABEL] ?? '';
    if (want.has(`${ns}/${gw}`)) continue;
    await deletePod(ctx, ns, p.metadata.name);
    await deleteAll(ctx, [{ apiVersion: 'v1', kind: 'Service', metadata: { name: gw, namespace: ns } } as unknown as Service]);
    removeWaypointToken(ctx.stateDir, ns, gw);
  }
  const out: WaypointRuntime[] = [];
  for (const g of gateways) {
    const ns = g.metadata.namespace ?? 'default';
    const name = g.metadata.name;
    const podName = waypointPodName(ns, name);
    if (!containerAlive(ctx.net, ns, podName)) {
      if (!istiod) throw new ClusterError('CLUSTER_COMPONENT_FAILED', `waypoint ${ns}/${name}: istiod is not running (meshctl local up)`);
      if (!exists(bundle)) throw new ClusterError('CLUSTER_COMPONENT_FAILED', `waypoint ${ns}/${name}: bundle ${bundle} not built (node tools/bundle.mjs waypoint)`);
      await startWaypointPod(ctx, istiod, bundle, ns, name, podName);
    }
    const ps = ctx.net.state.pods.find((p) => p.namespace === ns && p.name === podName);
    out.push({ namespace: ns, name, pod: podName, ...(ps ? { ip: ps.ip, node: ps.node } : {}), running: containerAlive(ctx.net, ns, podName) });
  }
  return out;
}

async function startWaypointPod(ctx: PodContext, istiod: IstiodPlacement, bundle: string, ns: string, name: string, podName: string): Promise<void> {
  await deletePod(ctx, ns, podName);
  const labels = { [GATEWAY_NAME_LABEL]: name, [MANAGED_LABEL]: MANAGED_BY_MESH, 'istio.io/dataplane-mode': 'none', 'networking.istio.io/tunnel': 'http' };
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: podName, namespace: ns, labels },
    spec: { serviceAccountName: name, containers: [{ name: 'istio-proxy', image: 'mesh/waypoint', ports: [{ name: 'mesh', containerPort: WAYPOINT_HBONE_PORT }] }] },
  } as Pod;
  const counts = new Map<string, number>();
  for (const p of ctx.net.state.pods) counts.set(p.node, (counts.get(p.node) ?? 0) + 1);
  const node = scheduleNode(pod, ctx.net.state.nodes, counts);
  // No CNI ADD: the pod is labelled dataplane-mode=none, which istio-cni leaves alone anyway.
  const ps = await ctx.net.addPod(node.name, podName, ns, { labels, serviceAccount: name });
  ctx.config.write(runningPod(pod, { node, ip: ps.ip, netns: ps.netns }) as unknown as KubeObjectLike);
  const tokenFile = writeWaypointToken(ctx.stateDir, { namespace: ns, name, serviceAccount: name, podName });
  ensureTokens(ctx.stateDir, ctx.net.state.nodes.map((n) => n.name));
  const svc = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns, labels: { [GATEWAY_NAME_LABEL]: name, [MANAGED_LABEL]: MANAGED_BY_MESH } },
    spec: { selector: { [GATEWAY_NAME_LABEL]: name }, ports: [{ name: 'mesh', port: WAYPOINT_HBONE_PORT, targetPort: WAYPOINT_HBONE_PORT }] },
  } as unknown as Service;
  await applyAll(ctx, [svc]);
  const log = path.join(ctx.logsDir, 'pods', `${ns}_${podName}.log`);
  const child = await ctx.net.spawnInPod({ namespace: ns, name: podName }, [process.execPath, bundle], {
    env: { ...process.env, ...podEnv(ps), ...waypointEnv(ctx.stateDir, istiod, ps, name, tokenFile) },
    stdio: log,
    detached: true,
  });
  if (child.pid === undefined) throw new ClusterError('CLUSTER_COMPONENT_FAILED', `waypoint ${ns}/${name} did not start; see ${log}`);
}

/** packages/waypoint/src/app/config.ts, filled in as the gateway chart would. */
export function waypointEnv(stateDir: string, istiod: IstiodPlacement, ps: PodState, name: string, tokenFile: string): Record<string, string> {
  const addr = `https://${istiodAddress(istiod)}`;
  return {
    XDS_ADDRESS: addr,
    CA_ADDRESS: addr,
    XDS_SERVER_NAME: ISTIOD_SERVER_NAME,
    CA_SERVER_NAME: ISTIOD_SERVER_NAME,
    ROOT_CERT: clusterPaths(stateDir).rootCertFile,
    TOKEN_FILE: tokenFile,
    ISTIO_META_CLUSTER_ID: CLUSTER_ID,
    TRUST_DOMAIN,
    POD_NAME: ps.name,
    POD_NAMESPACE: ps.namespace,
    SERVICE_ACCOUNT: name,
    INSTANCE_IP: ps.ip,
    WAYPOINT_NAME: name,
    READINESS_PORT: String(WAYPOINT_READY_PORT),
  };
}

/** Waits until the waypoint answers /healthz/ready (probed from its node, like kubelet). */
export async function waitWaypointReady(ctx: PodContext, w: WaypointRuntime, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
  if (!w.node || !w.ip) throw new ClusterError('CLUSTER_COMPONENT_FAILED', `waypoint ${w.namespace}/${w.name} has no running pod`);
  const url = `http://${w.ip}:${WAYPOINT_READY_PORT}/healthz/ready`;
  const log = path.join(ctx.logsDir, 'pods', `${w.namespace}_${w.pod}.log`);
  const deadline = Date.now() + timeoutMs;
  while (!(await probe(ctx.net, w.node, url))) {
    if (!containerAlive(ctx.net, w.namespace, w.pod)) throw new ClusterError('CLUSTER_COMPONENT_FAILED', `waypoint ${w.namespace}/${w.name} exited; see ${log}`);
    if (Date.now() > deadline) throw new ClusterError('CLUSTER_TIMEOUT', `waypoint ${w.namespace}/${w.name} not ready at ${url} after ${timeoutMs} ms; see ${log}`);
    await new Promise((r) => setTimeout(r, READY_POLL_MS));
  }
}
