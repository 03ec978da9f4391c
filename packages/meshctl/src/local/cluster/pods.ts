import path from 'node:path';
import type { Pod } from '@mesh/api';
import { podEnv, type LocalNetwork, type PodState } from '../net';
import { alive, type ClusterState } from './cluster-state';
import { cniAdd, cniDel, type CniPod, type NodeRunner } from './cni';
import { ConfigDir, keyOf, type KubeObjectLike } from './config-dir';
import { ClusterError } from './errors';
import { exists, nodePaths, type Bundles } from './paths';
import { SPEC_HASH_ANNOTATION, containerCommand, podFingerprint, runningPod, scheduleNode } from './workloads';

/** The node-side address of a pod CIDR is .1 and the CIDR is a /24 (LocalNetwork's kindnet layout). */
const POD_PREFIX_LEN = 24;

export interface PodContext {
  net: LocalNetwork;
  config: ConfigDir;
  bundles: Bundles;
  stateDir: string;
  logsDir: string;
  state: ClusterState;
}

export type ApplyAction = 'created' | 'configured' | 'unchanged' | 'deleted' | 'not found';

function podKeyOf(ns: string, name: string) {
  return { apiVersion: 'v1', kind: 'Pod', namespace: ns, name };
}

/**
 * True when this node has the CNI component: its agent was started on the node (alive or not) or its bundle
 * exists. Then, as with a real kubelet whose conflist chains istio-cni, ADD is part of every pod start and is
 * never skipped because the agent is down: istio-cni fails closed (the plugin errors when it cannot reach the
 * agent and kubelet retries the sandbox), so no pod of an ambient namespace ever runs outside the mesh.
 */
function cniConfigured(ctx: PodContext, node: string): boolean {
  return ctx.state.components.some((c) => c.name === 'cni-agent' && c.node === node) || exists(ctx.bundles.cniAgent);
}

/** The plugin to run for ADD/DEL on this node, or undefined when the node has no CNI component. */
function cniPlugin(ctx: PodContext, node: string): string | undefined {
  if (!cniConfigured(ctx, node)) return undefined;
  if (!exists(ctx.bundles.cniPlugin)) {
    throw new ClusterError(
      'CLUSTER_CNI_ADD_FAILED',
      `node ${node} runs the CNI agent but the istio-cni plugin bundle ${ctx.bundles.cniPlugin} is missing; build it with node tools/bundle.mjs cni`,
    );
  }
  return ctx.bundles.cniPlugin;
}

function nodeRunner(ctx: PodContext, node: string): NodeRunner {
  return (argv, env, stdin) => ctx.net.execInNode(node, argv, { env, input: stdin, timeoutMs: 30_000 });
}

function cniPod(ctx: PodContext, p: PodState, uid: string): CniPod {
  const gateway = p.ip.replace(/\.\d+$/, '.1');
  return { namespace: p.namespace, name: p.name, uid, netnsPath: ctx.net.netnsPath(p.netns), ip: p.ip, gateway, prefixLen: POD_PREFIX_LEN };
}

export function containerAlive(net: LocalNetwork, ns: string, name: string): boolean {
  return net.state.processes.some((p) => p.owner === `pod:${ns}/${name}` && alive(p));
}

/**
 * Runs a pod the way kubelet does: sandbox (netns + veth + IP from the local network), the object in the
 * "API server" (config dir), CNI ADD (istio-cni chained after the primary network), then the container.
 */
export async function applyPod(ctx: PodContext, pod: Pod): Promise<ApplyAction> {
  const ns = pod.metadata.namespace ?? 'default';
  const name = pod.metadata.name;
  const existing = ctx.config.read<Pod & KubeObjectLike>(podKeyOf(ns, name));
  const running = ctx.net.state.pods.find((p) => p.namespace === ns && p.name === name);
  const same = existing?.metadata.annotations?.[SPEC_HASH_ANNOTATION] === podFingerprint(pod);
  if (existing && running && same && containerAlive(ctx.net, ns, name)) {
    return 'unchanged';
  }
  if (existing || running) await deletePod(ctx, ns, name);
  await startPod(ctx, { ...pod, metadata: { ...pod.metadata, namespace: ns } });
  return existing ? 'configured' : 'created';
}

async function startPod(ctx: PodContext, pod: Pod): Promise<void> {
  const ns = pod.metadata.namespace ?? 'default';
  const name = pod.metadata.name;
  const cmd = containerCommand(pod, ctx.bundles.echo);
  const counts = new Map<string, number>();
  for (const p of ctx.net.state.pods) counts.set(p.node, (counts.get(p.node) ?? 0) + 1);
  const node = scheduleNode(pod, ctx.net.state.nodes, counts);
  const sa = pod.spec.serviceAccountName ?? pod.spec.serviceAccount ?? 'default';
  const ps = await ctx.net.addPod(node.name, name, ns, { labels: pod.metadata.labels ?? {}, serviceAccount: sa });
  const obj = runningPod(pod, { node, ip: ps.ip, netns: ps.netns });
  ctx.config.write(obj as unknown as KubeObjectLike);
  try {
    const plugin = cniPlugin(ctx, node.name);
    if (plugin) await cniAdd(nodeRunner(ctx, node.name), plugin, cniPod(ctx, ps, obj.metadata.uid!), nodePaths(ctx.stateDir, node.name).cniRunDir);
  } catch (e) {
    ctx.config.delete(podKeyOf(ns, name));
    await ctx.net.removePod({ namespace: ns, name });
    throw e;
  }
  const log = path.join(ctx.logsDir, 'pods', `${ns}_${name}.log`);
  const child = await ctx.net.spawnInPod({ namespace: ns, name }, cmd.argv, {
    env: { ...process.env, ...podEnv(ps), ...cmd.env },
    stdio: log,
    detached: true,
  });
  if (child.pid === undefined) {
    throw new ClusterError('CLUSTER_COMPONENT_FAILED', `pod ${ns}/${name}: container ${cmd.argv.join(' ')} did not start; see ${log}`);
  }
}

/** Kubelet's teardown: CNI DEL, stop the containers, remove the sandbox, then the object is gone. */
export async function deletePod(ctx: PodContext, ns: string, name: string): Promise<ApplyAction> {
  const obj = ctx.config.read<Pod & KubeObjectLike>(podKeyOf(ns, name));
  const ps = ctx.net.state.pods.find((p) => p.namespace === ns && p.name === name);
  if (!obj && !ps) return 'not found';
  // DEL is best effort (cniDel ignores the plugin's exit): a dead agent must not block teardown, and the
  // agent also sees the pod leave through its pod source.
  if (ps && obj?.metadata.uid && cniConfigured(ctx, ps.node) && exists(ctx.bundles.cniPlugin)) {
    await cniDel(nodeRunner(ctx, ps.node), ctx.bundles.cniPlugin, cniPod(ctx, ps, obj.metadata.uid), nodePaths(ctx.stateDir, ps.node).cniRunDir);
  }
  // The object goes first so the CNI agent and istiod see the pod leave before its netns disappears.
  if (obj) ctx.config.delete(keyOf(obj));
  await ctx.net.removePod({ namespace: ns, name });
  return 'deleted';
}
