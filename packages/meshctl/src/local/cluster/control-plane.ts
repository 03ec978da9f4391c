import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import type { LocalNetwork } from '../net';
import { alive, tailFile, type ClusterState, type ComponentRecord } from './cluster-state';
import {
  ISTIO_NAMESPACE,
  cniAgentSpec,
  istiodSpec,
  ztunnelPodName,
  ztunnelSpec,
  type ComponentName,
  type ComponentSpec,
  type TokenEntry,
} from './components';
import { ClusterError } from './errors';
import { clusterPaths, exists, nodePaths, type Bundles } from './paths';
import { readWaypointTokens } from './waypoint-tokens';

export const READY_TIMEOUT_MS = 45_000;
const READY_POLL_MS = 250;
const PROBE_TIMEOUT_S = 1;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** GET from inside the node netns (the root netns has no route to the cluster): true on a 2xx. */
export async function probe(net: LocalNetwork, node: string, url: string): Promise<boolean> {
  const r = await net.execInNode(node, ['curl', '-sf', '-o', '/dev/null', '-m', String(PROBE_TIMEOUT_S), url], { timeoutMs: 5_000 });
  return r.code === 0;
}

export async function waitReady(net: LocalNetwork, rec: ComponentRecord, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!alive(rec)) {
      throw new ClusterError(
        'CLUSTER_COMPONENT_FAILED',
        `${rec.name} on ${rec.node} exited during start; its log ${rec.log} ends with:\n${tailFile(rec.log, 8)}`,
      );
    }
    if (await probe(net, rec.node, rec.readyUrl)) return;
    if (Date.now() > deadline) {
      throw new ClusterError(
        'CLUSTER_TIMEOUT',
        `${rec.name} on ${rec.node} not ready at ${rec.readyUrl} after ${timeoutMs} ms; its log ${rec.log} ends with:\n${tailFile(rec.log, 8)}`,
      );
    }
    await sleep(READY_POLL_MS);
  }
}

/**
 * Starts one component detached in its node netns under meshctl's supervisor (which appends the component's
 * exit code or signal to its log), tracked by the network so `down` always kills it.
 */
export async function startComponent(net: LocalNetwork, spec: ComponentSpec): Promise<ComponentRecord> {
  fs.mkdirSync(path.dirname(spec.log), { recursive: true });
  let proc;
  try {
    proc = await net.spawnInNode(spec.node, spec.argv, {
      env: { ...process.env, ...spec.env },
      log: spec.log,
      label: `${spec.name} on ${spec.node}`,
    });
  } catch (cause) {
    throw new ClusterError('CLUSTER_COMPONENT_FAILED', `${spec.name} on ${spec.node} did not start; see ${spec.log}`, { cause });
  }
  return { name: spec.name, node: spec.node, pid: proc.pid, startTime: proc.startTime, log: spec.log, readyUrl: spec.readyUrl };
}

/**
 * Per-node ztunnel tokens plus the waypoints' tokens in the file istiod reads; existing tokens are kept so
 * running ztunnels and waypoints stay valid.
 */
export function ensureTokens(stateDir: string, nodes: readonly string[], extra: readonly TokenEntry[] = readWaypointTokens(stateDir)): void {
  const p = clusterPaths(stateDir);
  const entries: TokenEntry[] = nodes.map((node) => {
    const np = nodePaths(stateDir, node);
    let token: string;
    try {
      token = fs.readFileSync(np.ztunnelTokenFile, 'utf8').trim();
    } catch {
      token = randomBytes(24).toString('base64url');
      fs.mkdirSync(path.dirname(np.ztunnelTokenFile), { recursive: true });
      fs.writeFileSync(np.ztunnelTokenFile, token + '\n', { mode: 0o600 });
    }
    return { token, namespace: ISTIO_NAMESPACE, serviceAccount: 'ztunnel', podName: ztunnelPodName(node), nodeName: node };
  });
  const tmp = `${p.tokensFile}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, stringify({ tokens: [...entries, ...extra] }), { mode: 0o600 });
  fs.renameSync(tmp, p.tokensFile);
}

export interface ComponentPlan {
  spec: ComponentSpec;
  needs?: ComponentName;
}

/**
 * Reuses a live component, ready or not; starts it only when it is not running. A live but unready one is
 * left alone like kubelet leaves a running container that fails readiness (only liveness restarts): ztunnel
 * is unready while the node's CNI agent is down (no ZDS connection) and reconnects by itself once the agent
 * is back, so starting a second one beside it would only die on the ports the first still holds. The caller
 * waits for readiness. A missing bundle is recorded as skipped with the reason, never papered over.
 */
export async function ensureComponent(
  net: LocalNetwork,
  st: ClusterState,
  spec: ComponentSpec,
  blockedBy?: string,
): Promise<ComponentRecord | undefined> {
  const same = (c: { name: string; node?: string }) => c.name === spec.name && c.node === spec.node;
  st.skipped = st.skipped.filter((s) => !same(s));
  if (!exists(spec.bundle)) {
    st.skipped.push({ name: spec.name, node: spec.node, reason: `bundle ${spec.bundle} not built (node tools/bundle.mjs ...)` });
    return undefined;
  }
  if (blockedBy !== undefined) {
    st.skipped.push({ name: spec.name, node: spec.node, reason: blockedBy });
    return undefined;
  }
  const old = st.components.find(same);
  if (old && alive(old)) return old;
  st.components = st.components.filter((c) => !same(c));
  const rec = await startComponent(net, spec);
  st.components.push(rec);
  return rec;
}

export interface StartAllResult {
  istiod?: ComponentRecord;
}

/** istiod first (ztunnels need its root cert), then every node's CNI agent and ztunnel, in parallel. */
export async function startControlPlane(
  net: LocalNetwork,
  st: ClusterState,
  b: Bundles,
  stateDir: string,
  save: () => void,
): Promise<void> {
  const nodes = net.state.nodes;
  const first = nodes[0];
  if (!first) throw new ClusterError('CLUSTER_NOT_UP', 'the network has no nodes');
  ensureTokens(stateDir, nodes.map((n) => n.name));
  st.istiod = { node: first.name, ip: first.ip };
  const istiod = await ensureComponent(net, st, istiodSpec(b, stateDir, st.istiod));
  save();
  if (istiod) await waitReady(net, istiod);
  const rootCert = clusterPaths(stateDir).rootCertFile;
  const noIstiod = istiod ? (exists(rootCert) ? undefined : `istiod wrote no root certificate at ${rootCert}`) : 'istiod is not running';
  const pending: ComponentRecord[] = [];
  for (const n of nodes) {
    fs.mkdirSync(nodePaths(stateDir, n.name).cniRunDir, { recursive: true });
    fs.mkdirSync(path.dirname(nodePaths(stateDir, n.name).ztunnelSocket), { recursive: true });
    const at = { node: n.name, ip: n.ip };
    const cni = await ensureComponent(net, st, cniAgentSpec(b, stateDir, at));
    const zt = await ensureComponent(net, st, ztunnelSpec(b, stateDir, at, st.istiod), noIstiod);
    for (const r of [cni, zt]) if (r) pending.push(r);
  }
  save();
  await Promise.all(pending.map((r) => waitReady(net, r)));
}
