// The add-latency benchmark proper (bundled with esbuild by add-latency.mjs): the real node agent
// in-process with a directory pod source, a fake ztunnel over real ZDS that acks at once, real netns
// per pod, and the plugin executed through the installed launcher exactly as a container runtime does.
import { execFileSync, spawn } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createLogger } from '@mesh/core';
import { CniInstaller, ISTIO_CNI_PLUGIN_TYPE } from '../src/install';
import { CNI_ADD_TIMING_CHANNEL, NodeAgent, agentConfig, type CniAddTiming } from '../src/nodeagent';
import { FakeZtunnel } from '../src/zds/fake-ztunnel.test-helper';

export const P99_GOAL_MS = 50;
const NODE = 'bench-node';
const NAMESPACE = 'bench';
const BASELINE_SPAWNS_MAX = 50;

export interface BenchOptions {
  readonly pods: number;
  readonly concurrency: number;
  /** The bundled plugin, dist/istio-cni.mjs. */
  readonly pluginPath: string;
  readonly progress: (line: string) => void;
  /** Program pods with the native nftables backend instead of iptables. */
  readonly nativeNftables?: boolean;
}

export interface Stats {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  readonly maxMs: number;
}

export interface BenchResult extends Stats {
  readonly n: number;
  /** How the agent programmed pods: iptables (Istio's default) or the native nftables backend. */
  readonly ruleBackend: 'iptables' | 'nftables';
  readonly concurrency: number;
  readonly breakdown: {
    /** Agent /cmdadd handling: pod lookup, netns open, iptables + routes, ZDS Add and ack, annotation. */
    readonly agent: Stats;
    /** Agent received /cmdadd -> ZDS Add reached ztunnel: pod lookup, netns open, iptables + routes. */
    readonly agentToZtunnelAdd: Stats;
    /** ZDS Add reached ztunnel -> agent answered: the ack and the pod annotation (a file rewrite + rescan here). */
    readonly ztunnelAddToAgentDone: Stats;
    /** Plugin spawned -> its /cmdadd reached the agent: sh launcher, Node startup, module load, connect. */
    readonly spawnToAgentRequest: Stats;
    /** Everything else per ADD: sh launcher, Node startup, plugin module load, HTTP over the unix socket. */
    readonly pluginSide: Stats;
    /** From spawning the plugin to the ZDS Add reaching ztunnel (redirection is in place by then). */
    readonly spawnToZtunnelAdd: Stats;
    /** The launcher with CNI_COMMAND=VERSION: plugin startup cost alone, no agent involved. */
    readonly pluginVersionSpawn: Stats;
    /** `node -e 0`: bare Node startup on this machine. */
    readonly nodeStartup: Stats;
  };
  /** The agent's own per-step timing of each enrollment (CNI_ADD_TIMING_CHANNEL), per step. */
  readonly agentSteps: Readonly<Record<string, Stats>>;
  readonly goal: { readonly p99Ms: number; readonly met: boolean };
  readonly verifiedPods: number;
}

export function stats(samples: readonly number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? 0;
  const r = (x: number): number => Math.round(x * 100) / 100;
  return { p50Ms: r(at(0.5)), p99Ms: r(at(0.99)), meanMs: r(s.reduce((a, b) => a + b, 0) / Math.max(1, s.length)), maxMs: r(s.at(-1) ?? 0) };
}

interface Env {
  readonly dir: string;
  readonly binDir: string;
  readonly runDir: string;
  readonly manifests: string;
  readonly netns: string[];
}

/** Everything the run created, for removal on exit or SIGINT (add-latency.mjs calls it). */
let cleanupHooks: (() => void | Promise<void>)[] = [];
export async function cleanup(): Promise<void> {
  const hooks = cleanupHooks.reverse();
  cleanupHooks = [];
  for (const h of hooks) {
    try {
      await h();
    } catch {
      // best effort: keep removing the rest
    }
  }
}

export async function runAddLatencyBench(o: BenchOptions): Promise<BenchResult> {
  if (process.getuid?.() !== 0) throw new Error('the CNI benchmark needs root (network namespaces, iptables)');
  const env = await prepare(o);
  const agent = await startAgent(env, o.nativeNftables === true);
  cleanupHooks.push(() => agent.stop(false));
  const ztunnel = FakeZtunnel.connect(join(env.dir, 'ztunnel.sock'));
  cleanupHooks.push(() => ztunnel.socket.close());
  await ztunnel.waitForSnapshot();
  const addSeenAt = new Map<string, number>();
  ztunnel.answer = (r) => {
    if (r.kind === 'add') addSeenAt.set(r.uid, performance.now());
    return '';
  };
  const agentSpan = new Map<string, { start: number; end: number }>();
  const controller = agent.controller;
  const handle = controller.handleCniAdd.bind(controller);
  controller.handleCniAdd = async (ev) => {
    const start = performance.now();
    const r = await handle(ev);
    agentSpan.set(ev.PodName, { start, end: performance.now() });
    return r;
  };

  const timings: CniAddTiming[] = [];
  const onTiming = (t: unknown): void => void timings.push(t as CniAddTiming);
  subscribe(CNI_ADD_TIMING_CHANNEL, onTiming);
  cleanupHooks.push(() => void unsubscribe(CNI_ADD_TIMING_CHANNEL, onTiming));

  const launcher = join(env.binDir, ISTIO_CNI_PLUGIN_TYPE);
  const nodeStartup = await timeSpawns(process.execPath, ['-e', '0'], {}, '');
  const versionSpawn = await timeSpawns(launcher, [], { CNI_COMMAND: 'VERSION' }, '{"cniVersion":"1.0.0"}');
  o.progress(`node startup p50 ${stats(nodeStartup).p50Ms} ms, plugin VERSION spawn p50 ${stats(versionSpawn).p50Ms} ms; running ${o.pods} ADDs`);

  const spans = new Map<string, { t0: number; end: number; zt: number }>();
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < o.pods; i = next++) {
      const t0 = performance.now();
      await pluginAdd(launcher, env, i);
      const end = performance.now();
      const zt = addSeenAt.get(uidOf(i));
      if (zt === undefined) throw new Error(`pod ${podName(i)}: the plugin succeeded but ztunnel never got a ZDS Add`);
      spans.set(podName(i), { t0, end, zt });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency) }, worker));
  const verifiedPods = verify(env, agent);
  const phases = breakdownOf(spans, agentSpan);
  const total = stats(phases.total);
  return {
    n: spans.size,
    ruleBackend: o.nativeNftables === true ? 'nftables' : 'iptables',
    concurrency: o.concurrency,
    ...total,
    breakdown: {
      agent: stats(phases.agent),
      agentToZtunnelAdd: stats(phases.agentToZtunnelAdd),
      ztunnelAddToAgentDone: stats(phases.ztunnelAddToAgentDone),
      pluginSide: stats(phases.pluginSide),
      spawnToAgentRequest: stats(phases.spawnToAgentRequest),
      spawnToZtunnelAdd: stats(phases.spawnToZtunnelAdd),
      pluginVersionSpawn: stats(versionSpawn),
      nodeStartup: stats(nodeStartup),
    },
    agentSteps: stepStats(timings),
    goal: { p99Ms: P99_GOAL_MS, met: total.p99Ms < P99_GOAL_MS },
    verifiedPods,
  };
}

function stepStats(timings: readonly CniAddTiming[]): Record<string, Stats> {
  const by = new Map<string, number[]>();
  for (const t of timings) {
    for (const [k, v] of Object.entries(t.stepsMs)) by.set(k, [...(by.get(k) ?? []), v]);
  }
  return Object.fromEntries([...by].map(([k, v]) => [k, stats(v)]));
}

type Span = { t0: number; end: number; zt: number };

const PHASES = ['total', 'agent', 'agentToZtunnelAdd', 'ztunnelAddToAgentDone', 'pluginSide', 'spawnToAgentRequest', 'spawnToZtunnelAdd'] as const;
type Phase = (typeof PHASES)[number];

function breakdownOf(spans: Map<string, Span>, agent: Map<string, { start: number; end: number }>): Record<Phase, number[]> {
  const out = Object.fromEntries(PHASES.map((p) => [p, [] as number[]])) as Record<Phase, number[]>;
  for (const [name, s] of spans) {
    const a = agent.get(name);
    if (!a) throw new Error(`pod ${name}: the plugin succeeded but the agent never handled its ADD`);
    out.total.push(s.end - s.t0);
    out.agent.push(a.end - a.start);
    out.agentToZtunnelAdd.push(s.zt - a.start);
    out.ztunnelAddToAgentDone.push(a.end - s.zt);
    out.pluginSide.push(s.end - s.t0 - (a.end - a.start));
    out.spawnToAgentRequest.push(a.start - s.t0);
    out.spawnToZtunnelAdd.push(s.zt - s.t0);
  }
  return out;
}

const podName = (i: number): string => `pod-${i}`;
const uidOf = (i: number): string => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

async function prepare(o: BenchOptions): Promise<Env> {
  const dir = mkdtempSync(join(tmpdir(), `mbench-cni-${process.pid}-`));
  cleanupHooks.push(() => rmSync(dir, { recursive: true, force: true }));
  const env: Env = { dir, binDir: join(dir, 'bin'), runDir: join(dir, 'run'), manifests: join(dir, 'manifests'), netns: [] };
  for (const d of [env.binDir, env.runDir, env.manifests]) mkdirSync(d);
  // The plugin goes through the real installer: the runtime executes the sh launcher, as on a node.
  await new CniInstaller({ binDir: env.binDir, confDir: dir, pluginPath: o.pluginPath, chained: false }).install();
  writeFileSync(join(env.manifests, 'namespace.yaml'), `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${NAMESPACE}\n  labels:\n    istio.io/dataplane-mode: ambient\n`);
  cleanupHooks.push(() => {
    for (const ns of env.netns) execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  });
  for (let i = 0; i < o.pods; i++) {
    const ns = `mbench-${process.pid}-${i}`;
    execFileSync('ip', ['netns', 'add', ns]);
    env.netns.push(ns);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    // Pending, as when kubelet runs CNI ADD: the agent's informer path leaves it to the plugin.
    writeFileSync(join(env.manifests, `${podName(i)}.yaml`), podYaml(i));
    if (i % 50 === 49) o.progress(`created ${i + 1} netns`);
  }
  return env;
}

function podYaml(i: number): string {
  return `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${podName(i)}\n  namespace: ${NAMESPACE}\n  uid: ${uidOf(i)}\nspec:\n  nodeName: ${NODE}\n  serviceAccountName: bench\n  containers:\n    - name: app\nstatus:\n  phase: Pending\n`;
}

function startAgent(env: Env, nativeNftables: boolean): Promise<NodeAgent> {
  const config = agentConfig.parse({
    NODE_NAME: NODE,
    ZTUNNEL_UDS_ADDRESS: join(env.dir, 'ztunnel.sock'),
    CNI_AGENT_RUN_DIR: env.runDir,
    POD_SOURCE_DIR: env.manifests,
    NETNS_RESOLVER: 'annotation',
    AMBIENT_HOST_PROBE_ENABLED: 'false',
    NATIVE_NFTABLES: String(nativeNftables),
    READINESS_PORT: '0',
    LOG_LEVEL: 'silent',
  });
  return NodeAgent.start({ config, logger: createLogger({ component: 'cni-bench', level: 'silent' }) });
}

function pluginAdd(launcher: string, env: Env, i: number): Promise<void> {
  const ip = `10.${Math.floor(i / 250) + 1}.${i % 250}.10`;
  const stdin = JSON.stringify({
    cniVersion: '1.0.0',
    name: 'k8s-pod-network',
    type: ISTIO_CNI_PLUGIN_TYPE,
    ambient_enabled: true,
    exclude_namespaces: ['kube-system'],
    cni_agent_run_dir: env.runDir,
    pod_namespace: 'istio-system',
    plugin_log_level: 'error',
    prevResult: { cniVersion: '1.0.0', interfaces: [{ name: 'eth0' }], ips: [{ address: `${ip}/24`, interface: 0 }] },
  });
  const cniEnv = {
    CNI_COMMAND: 'ADD',
    CNI_CONTAINERID: `bench${i}`,
    CNI_NETNS: `/var/run/netns/${env.netns[i]}`,
    CNI_IFNAME: 'eth0',
    CNI_PATH: env.binDir,
    CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${NAMESPACE};K8S_POD_NAME=${podName(i)};K8S_POD_INFRA_CONTAINER_ID=bench${i};K8S_POD_UID=${uidOf(i)}`,
  };
  return run(launcher, [], cniEnv, stdin).then(({ code, stdout }) => {
    if (code !== 0) throw new Error(`plugin ADD for ${podName(i)} exited ${code}: ${stdout}`);
  });
}

function run(cmd: string, args: string[], env: Record<string, string>, stdin: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    // Runtimes pass a minimal environment; PATH only needs to find node (the launcher's fallback).
    const child = spawn(cmd, args, { env: { PATH: `${dirname(process.execPath)}:/usr/sbin:/usr/bin:/sbin:/bin`, ...env } });
    let stdout = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout }));
    child.stdin.end(stdin);
  });
}

async function timeSpawns(cmd: string, args: string[], env: Record<string, string>, stdin: string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < BASELINE_SPAWNS_MAX; i++) {
    const t0 = performance.now();
    const r = await run(cmd, args, env, stdin);
    if (r.code !== 0) throw new Error(`${cmd} exited ${r.code}`);
    out.push(performance.now() - t0);
  }
  return out.slice(3); // first spawns warm the page cache
}

/** iptables ISTIO_* chains, or (native nftables backend) our inet nat table. */
function redirected(netns: string, iptablesNat: string): boolean {
  if (iptablesNat.includes('-A ISTIO_PRERT')) return true;
  try {
    return execFileSync('ip', ['netns', 'exec', netns, 'nft', 'list', 'table', 'inet', 'istio-ambient-nat'], { encoding: 'utf8' }).includes('redirect to :15001');
  } catch {
    return false;
  }
}

/** Every pod must be enrolled, with the ISTIO_* chains in its netns: the plugin's 0 exit is not trusted alone. */
function verify(env: Env, agent: NodeAgent): number {
  let ok = 0;
  for (let i = 0; i < env.netns.length; i++) {
    const entry = agent.dataplane.cache.get(uidOf(i));
    const nat = execFileSync('ip', ['netns', 'exec', env.netns[i]!, 'iptables-save', '-t', 'nat'], { encoding: 'utf8' });
    if (entry?.status !== 'enabled' || !redirected(env.netns[i] ?? '', nat)) throw new Error(`pod ${podName(i)} is not redirected after its ADD`);
    ok++;
  }
  return ok;
}
