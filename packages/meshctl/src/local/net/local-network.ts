import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { LocalNetError } from './errors';
import { acquireStateLock } from './lock';
import {
  NOOP_LOGGER,
  kindNodeNames,
  podEnv,
  type AddPodOptions,
  type DownReport,
  type ExecOptions,
  type LocalNetworkOptions,
  type NodeSpawnOptions,
  type NetLogger,
  type PodRef,
  type ServiceSpec,
  type SpawnOptions,
  type UpOptions,
} from './types';
import { listNetnsEtc, removeNetnsEtc, renderHosts, renderResolvConf, writeNetnsEtc } from './hosts';
import { applyServiceRules, renderServiceRules } from './iptables';
import {
  FIRST_POD_HOST,
  LAST_POD_HOST,
  MAX_NODES,
  checkClusterName,
  checkLabel,
  defaultPrefix,
  nodeIp,
  nodeNetns,
  ownedNamePattern,
  podCidr,
  podHostVeth,
  podIp,
  podNetns,
  switchNetns,
} from './names';
import { logPodVictims, podProcessVictims } from './pod-processes';
import {
  NETNS_RUN_DIR,
  OWNER_ENV,
  killProcesses,
  pidsInNetns,
  procStartTime,
  snapshot,
  spawnInNetns,
} from './processes';
import { spawnSupervised } from './supervisor';
import { run, type RunResult } from './run';
import { allocateVip, serviceEndpointIps } from './services';
import {
  DEFAULT_STATE_ROOT,
  emptyState,
  loadState,
  removeStateFile,
  saveState,
  stateFilePath,
  type NetworkState,
  type NodeState,
  type PodState,
  type ProcessState,
  type ServiceState,
} from './state';
import {
  createNode,
  createPod,
  createSwitch,
  deleteNetns,
  deletePodLinks,
  listNetns,
  nodeHealthy,
  podHealthy,
  switchHealthy,
} from './topology';

/**
 * The kind replacement: a switch netns with a bridge, node netns wired to it, pod netns wired to their node,
 * kube-proxy-like ClusterIP DNAT in every node and hosts-file DNS in every pod. Every mutation is recorded in
 * the state file before the kernel object exists, so `down` can always undo a crashed run.
 */
export class LocalNetwork {
  readonly cluster: string;
  readonly prefix: string;
  readonly stateDir: string;
  private st: NetworkState;
  private readonly log: NetLogger;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(opts: LocalNetworkOptions) {
    checkClusterName(opts.cluster);
    this.cluster = opts.cluster;
    this.prefix = opts.prefix ?? defaultPrefix(opts.cluster);
    this.stateDir = opts.stateDir ?? path.join(DEFAULT_STATE_ROOT, opts.cluster);
    this.log = opts.logger ?? NOOP_LOGGER;
    this.st = loadState(this.stateDir) ?? emptyState(this.cluster, this.prefix);
  }

  /** As of the last mutation or `reload()`; other invocations may have changed the file since. */
  get state(): Readonly<NetworkState> {
    return this.st;
  }

  reload(): Readonly<NetworkState> {
    this.st = loadState(this.stateDir) ?? emptyState(this.cluster, this.prefix);
    return this.st;
  }

  get switchNetns(): string {
    return switchNetns(this.prefix);
  }

  /**
   * Mutations are serialized, in this process and across processes (lock file), and start from the state on
   * disk: IP and VIP allocation read-modify-write it, and another invocation may have changed it meanwhile.
   */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const locked = async () => {
      const release = await acquireStateLock(this.stateDir);
      try {
        this.reload();
        return await fn();
      } finally {
        release();
      }
    };
    const next = this.queue.then(locked, locked);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private save(): void {
    saveState(this.stateDir, this.st);
  }

  private record(netns: string): void {
    if (!this.st.netns.includes(netns)) this.st.netns.push(netns);
    this.save();
  }

  up(opts: UpOptions): Promise<void> {
    return this.serial(async () => {
      const names = typeof opts.nodes === 'number' ? kindNodeNames(this.cluster, opts.nodes) : [...opts.nodes];
      if (!(await switchHealthy(this.switchNetns))) {
        this.record(this.switchNetns);
        await createSwitch(this.switchNetns);
        // A new switch means every node's link to it is gone.
        for (const n of this.st.nodes) await this.ensureNode(n.name, true);
      }
      for (const name of names) await this.ensureNode(name, false);
      for (const pod of [...this.st.pods]) {
        if (!(await podHealthy(pod))) await this.createPodLocked(pod.node, pod, { labels: pod.labels, serviceAccount: pod.serviceAccount });
      }
      await this.syncServicesLocked();
      this.log.info({ cluster: this.cluster, nodes: this.st.nodes.length }, 'local network up');
    });
  }

  addNode(name: string): Promise<NodeState> {
    return this.serial(async () => {
      if (!(await switchHealthy(this.switchNetns))) {
        throw new LocalNetError('LOCAL_NET_NOT_UP', `cluster ${this.cluster} is not up; run up first`);
      }
      const node = await this.ensureNode(name, false);
      await this.syncServicesLocked();
      return node;
    });
  }

  private async ensureNode(name: string, force: boolean): Promise<NodeState> {
    checkLabel('node name', name);
    let node = this.st.nodes.find((n) => n.name === name);
    if (node && !force && (await nodeHealthy(node))) return node;
    if (!node) {
      const used = new Set(this.st.nodes.map((n) => n.index));
      let index = 0;
      while (used.has(index)) index++;
      if (index >= MAX_NODES) throw new LocalNetError('LOCAL_NET_BAD_NAME', `at most ${MAX_NODES} nodes`);
      node = { name, index, netns: nodeNetns(this.prefix, index), ip: nodeIp(index), podCidr: podCidr(index) };
      this.st.nodes.push(node);
    }
    this.record(node.netns);
    const peers = this.st.nodes.filter((n) => n !== node);
    await createNode(this.switchNetns, node, peers);
    this.log.debug({ node: node.name, netns: node.netns, ip: node.ip }, 'node created');
    return node;
  }

  node(name: string): NodeState {
    const n = this.st.nodes.find((x) => x.name === name);
    if (!n) throw new LocalNetError('LOCAL_NET_UNKNOWN_NODE', `no node "${name}" in cluster ${this.cluster}`);
    return n;
  }

  pod(ref: PodRef): PodState {
    const p = this.st.pods.find((x) => x.namespace === ref.namespace && x.name === ref.name);
    if (!p) {
      throw new LocalNetError('LOCAL_NET_UNKNOWN_POD', `no pod ${ref.namespace}/${ref.name} in cluster ${this.cluster}`);
    }
    return p;
  }

  service(namespace: string, name: string): ServiceState | undefined {
    return this.st.services.find((s) => s.namespace === namespace && s.name === name);
  }

  /** Path of a netns file, for components that open the namespace themselves (ztunnel inpod, CNI agent). */
  netnsPath(netns: string): string {
    return `${NETNS_RUN_DIR}/${netns}`;
  }

  /** Idempotent: an existing healthy pod with the same name is returned unchanged. */
  addPod(nodeName: string, name: string, namespace: string, opts: AddPodOptions = {}): Promise<PodState> {
    return this.serial(async () => {
      checkLabel('pod name', name);
      checkLabel('namespace', namespace);
      const existing = this.st.pods.find((p) => p.namespace === namespace && p.name === name);
      if (existing && existing.node === nodeName && (await podHealthy(existing))) return existing;
      if (existing) await this.removePodLocked(existing);
      const pod = await this.createPodLocked(nodeName, { namespace, name }, opts);
      await this.syncServicesLocked();
      return pod;
    });
  }

  private async createPodLocked(nodeName: string, ref: PodRef, opts: AddPodOptions): Promise<PodState> {
    const node = this.node(nodeName);
    let pod = this.st.pods.find((p) => p.namespace === ref.namespace && p.name === ref.name);
    if (!pod) {
      pod = {
        name: ref.name,
        namespace: ref.namespace,
        node: node.name,
        netns: podNetns(this.prefix, ref.namespace, ref.name),
        ip: this.nextPodIp(node),
        hostVeth: podHostVeth(ref.namespace, ref.name),
        labels: { ...(opts.labels ?? {}) },
        serviceAccount: opts.serviceAccount ?? 'default',
      };
      this.st.pods.push(pod);
    }
    this.record(pod.netns);
    await createPod(node, pod);
    this.log.debug({ pod: `${pod.namespace}/${pod.name}`, ip: pod.ip, netns: pod.netns }, 'pod created');
    return pod;
  }

  private nextPodIp(node: NodeState): string {
    const used = new Set(this.st.pods.filter((p) => p.node === node.name).map((p) => p.ip));
    for (let host = FIRST_POD_HOST; host <= LAST_POD_HOST; host++) {
      const ip = podIp(node.index, host);
      if (!used.has(ip)) return ip;
    }
    throw new LocalNetError('LOCAL_NET_POD_CIDR_FULL', `pod CIDR ${node.podCidr} of node ${node.name} is full`);
  }

  removePod(ref: PodRef): Promise<void> {
    return this.serial(async () => {
      const pod = this.st.pods.find((p) => p.namespace === ref.namespace && p.name === ref.name);
      if (!pod) return;
      await this.removePodLocked(pod);
      await this.syncServicesLocked();
    });
  }

  private async removePodLocked(pod: PodState): Promise<void> {
    const owner = podOwner(pod);
    const own = this.st.processes.filter((p) => p.owner === owner);
    const others = this.st.processes.filter((p) => p.owner !== owner);
    const found = podProcessVictims({ netns: pod.netns, owner, own, others });
    // Logged before the signals: a later death of any process on the node can be traced to, or ruled out of,
    // a pod removal.
    logPodVictims(this.log, `${pod.namespace}/${pod.name}`, found);
    await killProcesses(found.victims);
    await deletePodLinks(this.st.nodes.find((n) => n.name === pod.node), pod);
    await deleteNetns([pod.netns]);
    removeNetnsEtc(pod.netns);
    this.st.processes = this.st.processes.filter((p) => p.owner !== owner);
    this.st.pods = this.st.pods.filter((p) => p !== pod);
    this.st.netns = this.st.netns.filter((n) => n !== pod.netns);
    this.save();
  }

  setService(spec: ServiceSpec): Promise<ServiceState> {
    return this.serial(async () => {
      checkLabel('service name', spec.name);
      checkLabel('namespace', spec.namespace);
      const old = this.service(spec.namespace, spec.name);
      const taken = new Set(this.st.services.filter((s) => s !== old).map((s) => s.vip));
      const vip = old?.vip ?? allocateVip(spec.namespace, spec.name, taken);
      const svc: ServiceState = { ...spec, vip, ports: spec.ports.map((p) => ({ ...p })) };
      this.st.services = [...this.st.services.filter((s) => s !== old), svc];
      this.save();
      await this.syncServicesLocked();
      return svc;
    });
  }

  removeService(namespace: string, name: string): Promise<void> {
    return this.serial(async () => {
      const before = this.st.services.length;
      this.st.services = this.st.services.filter((s) => !(s.namespace === namespace && s.name === name));
      if (this.st.services.length === before) return;
      this.save();
      await this.syncServicesLocked();
    });
  }

  /** Re-renders DNAT rules in every node and hosts files in every node and pod from the current state. */
  private async syncServicesLocked(): Promise<void> {
    const rules = renderServiceRules(this.st.services, this.st.pods);
    for (const n of this.st.nodes) {
      writeNetnsEtc(n.netns, renderHosts({ hostname: n.name, ip: n.ip }, this.st.services), renderResolvConf(undefined));
    }
    for (const p of this.st.pods) {
      const hosts = renderHosts({ hostname: p.name, ip: p.ip, namespace: p.namespace }, this.st.services);
      writeNetnsEtc(p.netns, hosts, renderResolvConf(p.namespace));
    }
    await Promise.all(this.st.nodes.map((n) => applyServiceRules(n.netns, rules)));
  }

  execInPod(ref: PodRef, argv: readonly string[], opts: ExecOptions = {}): Promise<RunResult> {
    return run(['ip', 'netns', 'exec', this.pod(ref).netns, ...argv], opts);
  }

  execInNode(nodeName: string, argv: readonly string[], opts: ExecOptions = {}): Promise<RunResult> {
    return run(['ip', 'netns', 'exec', this.node(nodeName).netns, ...argv], opts);
  }

  /**
   * Long-running process in a pod; its pid is recorded and it is killed by removePod/down. The environment
   * carries what the downward API would (POD_NAME, POD_NAMESPACE, POD_IP, NODE_NAME, SERVICE_ACCOUNT), under
   * anything given in `opts.env`, and the owner marker (OWNER_ENV).
   */
  async spawnInPod(ref: PodRef, argv: readonly string[], opts: SpawnOptions = {}): Promise<ChildProcess> {
    const pod = this.pod(ref);
    const owner = podOwner(pod);
    const env = { ...process.env, ...podEnv(pod), ...(opts.env ?? {}), [OWNER_ENV]: owner };
    const child = spawnInNetns(pod.netns, argv, { ...opts, env });
    const pid = child.pid;
    const startTime = pid === undefined ? undefined : procStartTime(pid);
    if (pid === undefined || startTime === undefined) return child;
    await this.recordProcesses([{ pid, startTime, netns: pod.netns, argv: [...argv], owner }]);
    child.once('exit', () => void this.forgetProcess(pid, startTime).catch(() => undefined));
    return child;
  }

  /** Endpoint IPs a service currently DNATs to (selector matches plus explicit IPs). */
  serviceEndpoints(namespace: string, name: string): string[] {
    const svc = this.service(namespace, name);
    return svc ? serviceEndpointIps(svc, this.st.pods) : [];
  }

  /**
   * Long-running, detached process in a node netns (hostNetwork components: istiod, CNI agent, ztunnel) under
   * a supervisor that appends the component's exit code or signal to `opts.log`. Both are recorded for the
   * node, so `down` kills them and a pod removal never does.
   */
  async spawnInNode(nodeName: string, argv: readonly string[], opts: NodeSpawnOptions): Promise<ProcessState> {
    const node = this.node(nodeName);
    const owner = `node:${node.name}`;
    const env = { ...(opts.env ?? process.env), [OWNER_ENV]: owner };
    const label = opts.label ?? `${argv.join(' ')} on ${node.name}`;
    const sup = await spawnSupervised(node.netns, argv, { env, log: opts.log, label });
    const startTime = procStartTime(sup.pid);
    const supStart = procStartTime(sup.supervisorPid);
    if (startTime === undefined) {
      throw new LocalNetError('LOCAL_NET_SPAWN_FAILED', `${label} exited at once; see ${opts.log}`);
    }
    const rec: ProcessState = { pid: sup.pid, startTime, netns: node.netns, argv: [...argv], owner };
    const recs = [rec];
    if (supStart !== undefined) recs.push({ pid: sup.supervisorPid, startTime: supStart, netns: node.netns, argv: ['meshctl-supervisor', label], owner });
    await this.recordProcesses(recs);
    this.log.info({ node: node.name, pid: rec.pid, supervisorPid: sup.supervisorPid, log: opts.log, cmd: argv.join(' ') }, 'component started');
    return rec;
  }

  /** Read-modify-write under the state lock: another invocation may have saved processes meanwhile. */
  private recordProcesses(recs: readonly ProcessState[]): Promise<void> {
    return this.serial(async () => {
      this.st.processes.push(...recs);
      this.save();
    });
  }

  private forgetProcess(pid: number, startTime: string): Promise<void> {
    return this.serial(async () => {
      // After down the state file is gone: saving would resurrect it.
      if (!fs.existsSync(stateFilePath(this.stateDir))) return;
      const before = this.st.processes.length;
      this.st.processes = this.st.processes.filter((p) => !(p.pid === pid && p.startTime === startTime));
      if (this.st.processes.length !== before) this.save();
    });
  }

  /**
   * Removes everything: tracked processes, any process still inside one of our netns, the netns (taking
   * every veth and bridge with them), /etc/netns entries and the state file. Sweeps by name prefix too, so a
   * lost or partial state file still leads to a clean machine.
   */
  down(): Promise<DownReport> {
    return this.serial(async () => {
      const owned = ownedNamePattern(this.prefix);
      const netns = [...new Set([...this.st.netns, ...listNetns().filter((n) => owned.test(n))])];
      const victims = [...this.st.processes, ...snapshot(pidsInNetns(netns))];
      await killProcesses(victims);
      await deleteNetns(netns);
      for (const n of new Set([...netns, ...listNetnsEtc().filter((x) => owned.test(x))])) removeNetnsEtc(n);
      removeStateFile(this.stateDir);
      this.st = emptyState(this.cluster, this.prefix);
      this.log.info({ cluster: this.cluster, netns: netns.length }, 'local network down');
      return { netns, killedPids: [...new Set(victims.map((v) => v.pid))] };
    });
  }
}

function podOwner(pod: PodRef): string {
  return `pod:${pod.namespace}/${pod.name}`;
}
