import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { run, runOk } from '../lib/proc';
import { spawnStream } from '../lib/stream';
import { sleep, waitFor } from '../lib/wait';
import type {
  CaptureOptions,
  CaptureResult,
  ClusterDriver,
  ExecOptions,
  ExecResult,
  LogTarget,
  MeshComponent,
  NodeInfo,
  PodInfo,
  PodStream,
} from './types';

/** Ports of the components' own defaults (Istio's): ztunnel stats/admin, istiod monitoring. */
const ZTUNNEL_STATS_PORT = 15020;
const ZTUNNEL_ADMIN_PORT = 15000;
const ISTIOD_MONITORING_PORT = 15014;
const CLI_TIMEOUT_MS = 120_000;
/** `istioctl waypoint apply`'s default Gateway name. */
const WAYPOINT_NAME = 'waypoint';
const STOP_GRACE_MS = 5_000;
const CAPTURE_START_TIMEOUT_MS = 5_000;
/**
 * Packets still in flight when the traffic promise settles. tcpdump runs with --immediate-mode: otherwise the
 * kernel ring hands packets over only per filled block or 1 s timeout and a SIGINT loses the pending block.
 */
const CAPTURE_FLUSH_MS = 400;

/** `meshctl local status -o json` (the CLI's stable interface; see packages/meshctl/src/local/cluster/status.ts). */
interface LocalStatus {
  up: boolean;
  stateDir: string;
  nodes: Array<{ name: string; ip: string; netns: string }>;
  pods: Array<{ namespace: string; name: string; ip: string; node: string; running: boolean; redirection: string }>;
  components: Array<{ name: string; node: string; pid: number; alive: boolean; ready: boolean; log: string }>;
  skipped: Array<{ name: string; node?: string; reason: string }>;
}

export interface UpSummary {
  skipped: Array<{ name: string; node?: string; reason: string }>;
}

export interface LocalDriverOptions {
  cluster: string;
  /** packages/meshctl/dist/meshctl.mjs */
  meshctl: string;
  nodes: number;
  /** Environment for the components started by `up` (meshctl passes its own env to them), e.g. SECRET_TTL. */
  componentEnv?: Record<string, string>;
}

function toYaml(manifest: string | readonly object[]): string {
  return typeof manifest === 'string' ? manifest : manifest.map((o) => stringify(o)).join('---\n');
}

/** Drives a LocalCluster through the bundled meshctl CLI (one process per call, state re-read from disk). */
export class LocalDriver implements ClusterDriver {
  readonly kind = 'local' as const;
  readonly cluster: string;

  constructor(private readonly opts: LocalDriverOptions) {
    this.cluster = opts.cluster;
  }

  private env(): NodeJS.ProcessEnv {
    return { ...process.env, ...(this.opts.componentEnv ?? {}) };
  }

  private cli(args: readonly string[], input?: string, timeoutMs = CLI_TIMEOUT_MS): Promise<ExecResult> {
    return run([process.execPath, this.opts.meshctl, 'local', ...args, '--cluster', this.cluster], {
      env: this.env(),
      timeoutMs,
      ...(input !== undefined ? { input } : {}),
    });
  }

  private async cliOk(args: readonly string[], input?: string): Promise<string> {
    const r = await this.cli(args, input);
    if (r.code !== 0) throw new Error(`meshctl local ${args.join(' ')} failed (${r.code}): ${(r.stderr || r.stdout).trim().slice(-3000)}`);
    return r.stdout;
  }

  async up(): Promise<UpSummary> {
    const out = await this.cliOk(['up', '--nodes', String(this.opts.nodes), '-o', 'json']);
    return JSON.parse(out) as UpSummary;
  }

  /** Copies component and pod logs out of the state dir before `down` removes it (for failure analysis). */
  async keepLogs(dest: string): Promise<void> {
    const st = await this.status();
    fs.mkdirSync(dest, { recursive: true });
    fs.cpSync(path.join(st.stateDir, 'logs'), dest, { recursive: true });
    console.error(`e2e: logs of cluster ${this.cluster} kept in ${dest}`);
  }

  async destroy(): Promise<void> {
    await this.cliOk(['down']);
  }

  async status(): Promise<LocalStatus> {
    return JSON.parse(await this.cliOk(['status', '-o', 'json'])) as LocalStatus;
  }

  async nodes(): Promise<NodeInfo[]> {
    return (await this.status()).nodes.map((n) => ({ name: n.name, ip: n.ip }));
  }

  private async node(name: string): Promise<{ name: string; ip: string; netns: string }> {
    const n = (await this.status()).nodes.find((x) => x.name === name);
    if (!n) throw new Error(`node "${name}" is not in cluster ${this.cluster}`);
    return n;
  }

  async apply(manifest: string | readonly object[]): Promise<void> {
    await this.cliOk(['apply', '-f', '-'], toYaml(manifest));
  }

  async delete(manifest: string | readonly object[]): Promise<void> {
    await this.cliOk(['delete', '-f', '-'], toYaml(manifest));
  }

  exec(namespace: string, pod: string, argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return run([process.execPath, this.opts.meshctl, 'local', 'exec', '--cluster', this.cluster, '-n', namespace, pod, '--', ...argv], {
      env: this.env(),
      ...(opts.input !== undefined ? { input: opts.input } : {}),
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    });
  }

  async stream(namespace: string, pod: string, argv: readonly string[]): Promise<PodStream> {
    return spawnStream([process.execPath, this.opts.meshctl, 'local', 'exec', '--cluster', this.cluster, '-n', namespace, pod, '--', ...argv], this.env());
  }

  async pod(namespace: string, name: string): Promise<PodInfo> {
    const p = (await this.status()).pods.find((x) => x.namespace === namespace && x.name === name);
    if (!p) throw new Error(`pod ${namespace}/${name} not found in cluster ${this.cluster}`);
    return { namespace, name, ip: p.ip, node: p.node };
  }

  /** The container's host pid and start time from LocalNetwork's state.json (owner `pod:<ns>/<name>`). */
  async podProcessId(namespace: string, name: string): Promise<string> {
    const st = await this.status();
    const net = JSON.parse(fs.readFileSync(path.join(st.stateDir, 'state.json'), 'utf8')) as {
      processes: Array<{ pid: number; startTime: string; owner: string }>;
    };
    const p = net.processes.find((x) => x.owner === `pod:${namespace}/${name}`);
    if (!p) throw new Error(`no container process recorded for pod ${namespace}/${name}`);
    return `${p.pid}@${p.startTime}`;
  }

  async logs(target: LogTarget): Promise<string> {
    if (target.component) {
      const name = target.node ? `${target.component}-${target.node}` : target.component;
      return this.cliOk(['logs', name]);
    }
    if (!target.pod) throw new Error('logs needs a component or a pod');
    return this.cliOk(['logs', '-n', target.namespace ?? 'default', target.pod]);
  }

  async waypointApply(namespace: string): Promise<PodInfo> {
    const base = [process.execPath, this.opts.meshctl, 'waypoint'];
    const opts = { env: this.env(), timeoutMs: CLI_TIMEOUT_MS };
    await runOk([...base, 'apply', '-n', namespace, '--enroll-namespace', '--wait', '--cluster', this.cluster], opts);
    const rows = JSON.parse(await runOk([...base, 'list', '-n', namespace, '-o', 'json', '--cluster', this.cluster], opts)) as Array<{ name: string; pod?: string; running: boolean }>;
    const w = rows.find((r) => r.name === WAYPOINT_NAME);
    if (!w?.pod || !w.running) throw new Error(`waypoint ${namespace}/${WAYPOINT_NAME} is not running after apply --wait: ${JSON.stringify(rows)}`);
    return this.pod(namespace, w.pod);
  }

  async label(namespace: string, labels: Record<string, string | null>): Promise<void> {
    const args = Object.entries(labels).map(([k, v]) => (v === null ? `${k}-` : `${k}=${v}`));
    await this.cliOk(['label', 'ns', namespace, ...args]);
  }

  async capture(opts: CaptureOptions, during: () => Promise<void>): Promise<CaptureResult> {
    const node = await this.node(opts.node);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mesh-e2e-cap-'));
    const file = path.join(dir, 'cap.pcap');
    try {
      const td = spawn('ip', ['netns', 'exec', node.netns, 'tcpdump', '-i', 'eth0', '-nn', '--immediate-mode', '-U', '-s', '0', '-w', file, opts.filter], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      const done = new Promise<void>((resolve) => td.on('close', () => resolve()));
      let err = '';
      td.stderr.on('data', (b: Buffer) => (err += b.toString()));
      await waitFor(async () => err.includes('listening on') || td.exitCode !== null, {
        timeoutMs: CAPTURE_START_TIMEOUT_MS,
        intervalMs: 50,
        what: `tcpdump to start in ${node.netns}`,
      });
      if (td.exitCode !== null) throw new Error(`tcpdump failed in ${node.netns}: ${err.trim()}`);
      const limit = setTimeout(() => td.kill('SIGINT'), opts.durationMs);
      try {
        await during();
        await sleep(CAPTURE_FLUSH_MS);
      } finally {
        clearTimeout(limit);
        td.kill('SIGINT');
        await done;
      }
      const text = await runOk(['tcpdump', '-nn', '-r', file], { timeoutMs: 10_000 });
      return { lines: text.split('\n').filter((l) => l.trim() !== ''), raw: fs.readFileSync(file) };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  private async component(component: MeshComponent, node?: string) {
    const all = (await this.status()).components.filter((c) => c.name === component && (node === undefined || c.node === node));
    if (all.length !== 1) {
      throw new Error(`expected one ${component}${node ? ` on ${node}` : ''} in cluster ${this.cluster}, found ${all.length}`);
    }
    return all[0]!;
  }

  async kill(component: MeshComponent, signal: NodeJS.Signals, node?: string): Promise<void> {
    const c = await this.component(component, node);
    if (!c.alive) throw new Error(`${component} on ${c.node} (pid ${c.pid}) is not running`);
    process.kill(c.pid, signal);
    if (signal === 'SIGKILL' || signal === 'SIGTERM' || signal === 'SIGINT') await this.waitGone(c.pid, STOP_GRACE_MS);
  }

  private async waitGone(pid: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!pidAlive(pid)) return true;
      await sleep(50);
    }
    return !pidAlive(pid);
  }

  /** SIGTERM (drain) then, after a grace period, SIGKILL; `meshctl local up` restarts what is dead. */
  async restart(component: MeshComponent, node?: string): Promise<void> {
    const c = await this.component(component, node);
    if (c.alive) {
      process.kill(c.pid, 'SIGTERM');
      if (!(await this.waitGone(c.pid, STOP_GRACE_MS))) {
        process.kill(c.pid, 'SIGKILL');
        await this.waitGone(c.pid, STOP_GRACE_MS);
      }
    }
    await this.up();
  }

  private async nodeGet(nodeName: string, url: (ip: string) => string): Promise<string> {
    const node = await this.node(nodeName);
    return runOk(['ip', 'netns', 'exec', node.netns, 'curl', '-sS', '-m', '5', url(node.ip)], { timeoutMs: 10_000 });
  }

  async metrics(component: MeshComponent, node: string): Promise<string> {
    const port = component === 'istiod' ? ISTIOD_MONITORING_PORT : ZTUNNEL_STATS_PORT;
    return this.nodeGet(node, (ip) => `http://${ip}:${port}/metrics`);
  }

  async admin(component: MeshComponent, node: string, urlPath: string): Promise<string> {
    if (component !== 'ztunnel') throw new Error(`admin endpoint of ${component} is not mapped by the local driver`);
    return this.nodeGet(node, () => `http://127.0.0.1:${ZTUNNEL_ADMIN_PORT}${urlPath}`);
  }
}

function pidAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
