import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { MeshResource, Namespace, Pod } from '@mesh/api';
import { DEFAULT_STATE_ROOT, LocalNetwork, fileLogger, podEnv, type NetLogger } from '../net';
import { applyAll, deleteAll, labelNamespace, type ApplyResult } from './apply';
import { alive, loadClusterState, saveClusterState, type ClusterState } from './cluster-state';
import { ISTIO_NAMESPACE, istiodAddress } from './components';
import { ConfigDir, type KubeObjectLike } from './config-dir';
import { probe, startControlPlane } from './control-plane';
import { ClusterError } from './errors';
import { bundlesIn, clusterPaths, findRepoRoot, type Bundles, type ClusterPaths } from './paths';
import { containerAlive, type PodContext } from './pods';
import { statusOf, type ClusterStatus } from './status';
import { applyWaypointObjects, deleteWaypointObjects, listWaypointObjects, type WaypointApplyOptions, type WaypointApplyResult, type WaypointInfo } from './waypoint-objects';
import { syncWaypoints, waitWaypointReady, waypointPodName, type WaypointRuntime } from './waypoint-runtime';

export const DEFAULT_CLUSTER = 'mesh';
export const DEFAULT_NODES = 2;
export const MESHCTL_LOG_FILE = 'meshctl.log';
/** Namespaces every cluster starts with, as kind's. */
const BASE_NAMESPACES = ['default', 'kube-system', ISTIO_NAMESPACE];

export interface LocalClusterOptions {
  cluster?: string;
  /** Default /run/mesh-local/<cluster>. */
  stateDir?: string;
  repoRoot?: string;
  logger?: NetLogger;
}

export interface UpReport {
  cluster: string;
  stateDir: string;
  nodes: Array<{ name: string; ip: string; netns: string; podCidr: string }>;
  istiod?: string;
  components: Array<{ name: string; node: string; pid: number; log: string }>;
  skipped: Array<{ name: string; node?: string; reason: string }>;
}

/**
 * A whole ambient cluster on one machine: the network-namespace "kind" (LocalNetwork), a config directory
 * standing in for the API server, istiod in the control-plane node, and per node the CNI agent and ztunnel.
 * Every invocation re-reads the state from disk, so separate CLI runs and tests can drive one cluster.
 */
export class LocalCluster {
  readonly cluster: string;
  readonly net: LocalNetwork;
  readonly paths: ClusterPaths;
  readonly bundles: Bundles;
  readonly config: ConfigDir;

  constructor(opts: LocalClusterOptions = {}) {
    this.cluster = opts.cluster ?? DEFAULT_CLUSTER;
    const stateDir = opts.stateDir ?? path.join(DEFAULT_STATE_ROOT, this.cluster);
    this.paths = clusterPaths(stateDir);
    // What this invocation did to processes (components started, pod removal kills) is kept beside the
    // components' logs, which e2e copies out on failure.
    const logger = opts.logger ?? fileLogger(path.join(this.paths.logsDir, MESHCTL_LOG_FILE), { cluster: this.cluster });
    this.net = new LocalNetwork({ cluster: this.cluster, stateDir, logger });
    this.bundles = bundlesIn(opts.repoRoot ?? findRepoRoot());
    this.config = new ConfigDir(this.paths.configDir);
  }

  get state(): ClusterState {
    return loadClusterState(this.paths.clusterFile, this.cluster);
  }

  private saveState(st: ClusterState): void {
    fs.mkdirSync(this.paths.stateDir, { recursive: true });
    saveClusterState(this.paths.clusterFile, st);
  }

  private context(): PodContext {
    this.net.reload();
    return {
      net: this.net,
      config: this.config,
      bundles: this.bundles,
      stateDir: this.paths.stateDir,
      logsDir: this.paths.logsDir,
      state: this.state,
    };
  }

  isUp(): boolean {
    return this.net.reload().nodes.length > 0;
  }

  private requireUp(): void {
    if (!this.isUp()) {
      throw new ClusterError('CLUSTER_NOT_UP', `cluster "${this.cluster}" is not up; run \`meshctl local up --cluster ${this.cluster}\``);
    }
  }

  /** Idempotent: a healthy cluster is left as it is; missing or dead parts are (re)created. */
  async up(nodes: number = DEFAULT_NODES): Promise<UpReport> {
    const have = this.net.reload().nodes.length;
    await this.net.up({ nodes: Math.max(nodes, have) });
    fs.mkdirSync(this.paths.configDir, { recursive: true });
    for (const name of BASE_NAMESPACES) {
      if (!this.config.read({ apiVersion: 'v1', kind: 'Namespace', name })) {
        const ns: Namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name }, status: { phase: 'Active' } };
        this.config.write(ns as unknown as KubeObjectLike);
      }
    }
    const st = this.state;
    st.cluster = this.cluster;
    await startControlPlane(this.net, st, this.bundles, this.paths.stateDir, () => this.saveState(st));
    this.saveState(st);
    await this.syncWaypoints();
    return this.report(st);
  }

  private report(st: ClusterState): UpReport {
    return {
      cluster: this.cluster,
      stateDir: this.paths.stateDir,
      nodes: this.net.state.nodes.map((n) => ({ name: n.name, ip: n.ip, netns: n.netns, podCidr: n.podCidr })),
      ...(st.istiod && st.components.some((c) => c.name === 'istiod') ? { istiod: istiodAddress(st.istiod) } : {}),
      components: st.components.map((c) => ({ name: c.name, node: c.node, pid: c.pid, log: c.log })),
      skipped: st.skipped,
    };
  }

  /** Everything goes, also after a crash: the network sweeps its netns by name and kills what runs inside. */
  async down(): Promise<{ netns: number; killedPids: number }> {
    const st = this.state;
    const r = await this.net.down();
    const leftover = st.components.filter(alive);
    for (const c of leftover) {
      try {
        process.kill(c.pid, 'SIGKILL');
      } catch {
        // Exited meanwhile.
      }
    }
    fs.rmSync(this.paths.stateDir, { recursive: true, force: true });
    return { netns: r.netns.length, killedPids: r.killedPids.length + leftover.length };
  }

  async apply(objects: readonly MeshResource[]): Promise<ApplyResult[]> {
    this.requireUp();
    const r = await applyAll(this.context(), objects);
    await this.syncWaypoints();
    return r;
  }

  async delete(objects: readonly MeshResource[]): Promise<ApplyResult[]> {
    this.requireUp();
    const r = await deleteAll(this.context(), objects);
    await this.syncWaypoints();
    return r;
  }

  /** Runs a waypoint pod for every istio-waypoint Gateway and stops those whose Gateway is gone. */
  async syncWaypoints(): Promise<WaypointRuntime[]> {
    const st = this.state;
    const istiod = st.components.some((c) => c.name === 'istiod' && alive(c)) ? st.istiod : undefined;
    return syncWaypoints(this.context(), istiod, this.bundles.waypoint);
  }

  /** `istioctl waypoint apply`: the Gateway (and namespace label), then its pod; `wait` waits for readiness. */
  async applyWaypoint(o: WaypointApplyOptions & { wait?: boolean }): Promise<WaypointApplyResult & { runtime?: WaypointRuntime }> {
    this.requireUp();
    const r = applyWaypointObjects(this.config, o);
    const runtime = (await this.syncWaypoints()).find((w) => `${w.namespace}/${w.name}` === r.gateway);
    if (o.wait && runtime) await waitWaypointReady(this.context(), runtime);
    return { ...r, ...(runtime ? { runtime } : {}) };
  }

  listWaypoints(namespace?: string): Array<WaypointInfo & { pod?: string; running: boolean }> {
    this.requireUp();
    this.net.reload();
    return listWaypointObjects(this.config, namespace).map((w) => {
      const pod = waypointPodName(w.namespace, w.name);
      const running = containerAlive(this.net, w.namespace, pod);
      return { ...w, ...(running ? { pod } : {}), running };
    });
  }

  async deleteWaypoints(namespace: string, names: readonly string[]): Promise<Array<{ gateway: string; action: 'deleted' | 'not found' }>> {
    this.requireUp();
    const r = deleteWaypointObjects(this.config, namespace, names);
    await this.syncWaypoints();
    return r;
  }

  labelNamespace(name: string, set: Record<string, string>, remove: readonly string[]): Namespace {
    this.requireUp();
    return labelNamespace(this.context(), name, set, remove);
  }

  async status(): Promise<ClusterStatus> {
    this.net.reload();
    return statusOf(this.net, this.config, this.state, this.paths.stateDir, (node, url) => probe(this.net, node, url));
  }

  pod(namespace: string, name: string): Pod {
    const p = this.config.read<Pod & KubeObjectLike>({ apiVersion: 'v1', kind: 'Pod', namespace, name });
    if (!p) throw new ClusterError('CLUSTER_UNKNOWN_OBJECT', `pod ${namespace}/${name} not found (meshctl local status lists pods)`);
    return p;
  }

  /** Pods whose name is `name` or, for Deployment pods, starts with `name-` (like `kubectl exec deploy/x`). */
  resolvePod(namespace: string, name: string): string {
    const pods = this.config.list<Pod & KubeObjectLike>('Pod', namespace).map((p) => p.metadata.name);
    if (pods.includes(name)) return name;
    const prefixed = pods.filter((p) => p.startsWith(`${name}-`)).sort();
    if (prefixed[0] !== undefined) return prefixed[0];
    throw new ClusterError('CLUSTER_UNKNOWN_OBJECT', `pod ${namespace}/${name} not found (meshctl local status lists pods)`);
  }

  /** Runs argv in the pod's netns with its downward-API env; stdio inherited, resolves with the exit code. */
  exec(namespace: string, name: string, argv: readonly string[], stdio: 'inherit' | 'pipe' = 'inherit'): Promise<{ code: number; stdout: string; stderr: string }> {
    this.requireUp();
    const podName = this.resolvePod(namespace, name);
    const ps = this.net.pod({ namespace, name: podName });
    const [cmd] = argv;
    if (cmd === undefined) throw new ClusterError('CLUSTER_INVALID_MANIFEST', 'exec needs a command after --');
    return new Promise((resolve, reject) => {
      const child = spawn('ip', ['netns', 'exec', ps.netns, ...argv], { stdio: stdio === 'inherit' ? 'inherit' : 'pipe', env: { ...process.env, ...podEnv(ps) } });
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (b: Buffer) => (stdout += b.toString()));
      child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 + 9 : 1), stdout, stderr }));
    });
  }

  /**
   * Log file of a component (`istiod`, `ztunnel[-node]`, `cni-agent[-node]`), of meshctl itself (`meshctl`:
   * what each invocation started, stopped or killed as stray) or of a pod's container. A component's own log
   * also ends with its supervisor's exit report (exit code or signal).
   */
  logFile(target: string, namespace = 'default'): string {
    if (target === 'meshctl') return path.join(this.paths.logsDir, MESHCTL_LOG_FILE);
    const st = this.state;
    const comps = st.components.filter((c) => c.name === target || `${c.name}-${c.node}` === target);
    if (comps.length > 1) {
      throw new ClusterError('CLUSTER_UNKNOWN_OBJECT', `"${target}" runs on several nodes; name one: ${comps.map((c) => `${c.name}-${c.node}`).join(', ')}`);
    }
    if (comps[0]) return comps[0].log;
    const podName = this.resolvePod(namespace, target);
    return path.join(this.paths.logsDir, 'pods', `${namespace}_${podName}.log`);
  }

  containerRunning(namespace: string, name: string): boolean {
    return containerAlive(this.net.reload() && this.net, namespace, name);
  }
}
