import { spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalNetwork, type PodRef } from './index';
import { isAlive, pidsInNetns, procStartTime } from './processes';
import { loadState, saveState } from './state';

// Real kernel: network namespaces, veths, a bridge and iptables, all inside namespaces named with this prefix.
const ID = `${process.pid % 100000}`;
const here = path.dirname(fileURLToPath(import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `mtest-${ID}-`));
const echoBundle = path.join(tmp, 'echo.mjs');

function rootSnapshot(): string {
  const strip = (s: string) => s.replace(/"(valid|preferred)_life_time":\d+/g, '');
  const ip = (args: string[]) => strip(spawnSync('ip', ['-j', ...args], { encoding: 'utf8' }).stdout);
  const ipt = spawnSync('iptables-save', { encoding: 'utf8' }).stdout.replace(/^#.*$/gm, '').replace(/\[\d+:\d+\]/g, '');
  return [ip(['route', 'show', 'table', 'all']), ip(['addr']), ip(['rule']), ip(['link']), ipt].join('\n');
}

function owned(prefix: string): { netns: string[]; etc: string[] } {
  const ls = (d: string) => (fs.existsSync(d) ? fs.readdirSync(d) : []);
  return {
    netns: ls('/run/netns').filter((n) => n.startsWith(prefix)),
    etc: ls('/etc/netns').filter((n) => n.startsWith(prefix)),
  };
}

/** Starts the bundled echo app in a pod and resolves once it printed its listening line. */
async function startEcho(net: LocalNetwork, ref: PodRef, version: string, detached = false): Promise<ChildProcess> {
  const log = path.join(tmp, `${net.prefix}${ref.name}.log`);
  const argv = [process.execPath, echoBundle, '--port', '8080', '--tcp-port', '9000'];
  // Pod name and namespace come from the downward-API-like environment spawnInPod sets.
  argv.push('--version', version);
  if (detached) {
    const child = await net.spawnInPod(ref, argv, { stdio: log, detached: true });
    return waitFor(() => fs.readFileSync(log, 'utf8').includes('listening')).then(() => child);
  }
  const child = await net.spawnInPod(ref, argv);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('"listening"')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`echo exited ${String(code)}: ${out}`)));
  });
}

async function waitFor(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (cond()) return;
    } catch {
      // Not there yet.
    }
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function curlJson(net: LocalNetwork, ref: PodRef, url: string): Promise<{ pod: string; remoteAddress: string; version: string }> {
  const r = await net.execInPod(ref, ['curl', '-sS', '--max-time', '5', url]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as { pod: string; remoteAddress: string; version: string };
}

beforeAll(async () => {
  await build({
    entryPoints: [path.join(here, '../../echo/main.ts')],
    outfile: echoBundle,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
    // CommonJS dependencies (grpc-js) need a real `require` inside an ESM bundle, as in tools/bundle.mjs.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
}, 30_000);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('LocalNetwork on a real kernel', () => {
  const prefix = `mtest-${ID}-`;
  const opts = { cluster: `t${ID}`, prefix, stateDir: path.join(tmp, 'state') };
  const net = new LocalNetwork(opts);
  const client = { namespace: 'demo', name: 'client' };
  const echo1 = { namespace: 'demo', name: 'echo-v1' };
  const echo2 = { namespace: 'demo', name: 'echo-v2' };
  let before = '';
  let echoProc: ChildProcess;

  beforeAll(async () => {
    before = rootSnapshot();
    await net.up({ nodes: 2 });
    await net.up({ nodes: 2 }); // idempotent
    const [n0, n1] = net.state.nodes;
    await net.addPod(n0!.name, client.name, client.namespace, { labels: { app: 'client' } });
    await net.addPod(n1!.name, echo1.name, echo1.namespace, { labels: { app: 'echo', version: 'v1' } });
    await net.addPod(n0!.name, echo2.name, echo2.namespace, { labels: { app: 'echo', version: 'v2' } });
    echoProc = await startEcho(net, echo1, 'v1');
    await startEcho(net, echo2, 'v2');
  }, 30_000);

  afterAll(async () => {
    await net.down();
  }, 30_000);

  it('lays out kind-like addresses and kindnet routes', () => {
    expect(net.state.nodes.map((n) => [n.ip, n.podCidr])).toEqual([
      ['172.18.0.2', '10.244.0.0/24'],
      ['172.18.0.3', '10.244.1.0/24'],
    ]);
    expect(net.pod(echo1).ip).toBe('10.244.1.2');
    expect(net.pod(client).ip).toBe('10.244.0.2');
    expect(net.pod(echo2).ip).toBe('10.244.0.3');
  });

  it('connects pods across nodes without NAT', async () => {
    const j = await curlJson(net, client, `http://${net.pod(echo1).ip}:8080/x`);
    expect(j).toMatchObject({ pod: 'echo-v1', remoteAddress: net.pod(client).ip });
  });

  it('connects pods on the same node through the node', async () => {
    const j = await curlJson(net, client, `http://${net.pod(echo2).ip}:8080/`);
    expect(j).toMatchObject({ pod: 'echo-v2', remoteAddress: net.pod(client).ip });
  });

  it('load-balances a ClusterIP VIP over every endpoint, reachable by name', async () => {
    const svc = await net.setService({ namespace: 'demo', name: 'echo', ports: [{ port: 80, targetPort: 8080 }], selector: { app: 'echo' } });
    expect(svc.vip.startsWith('10.')).toBe(true);
    const r = await net.execInPod(client, [process.execPath, echoBundle, 'client', '--url', 'http://echo.demo.svc.cluster.local/', '--count', '40', '--concurrency', '4']);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { ok: number; byVersion: Record<string, number> };
    expect(summary.ok).toBe(40);
    expect(summary.byVersion.v1).toBeGreaterThan(0);
    expect(summary.byVersion.v2).toBeGreaterThan(0);
    expect((await curlJson(net, client, 'http://echo/')).remoteAddress).toBe(net.pod(client).ip);
  });

  it('resolves <svc>.<ns>:<port> by name with curl and reaches the VIP from a node (OUTPUT DNAT)', async () => {
    await net.setService({ namespace: 'demo', name: 'echo', ports: [{ port: 8080 }], selector: { app: 'echo', version: 'v1' } });
    expect((await curlJson(net, client, 'http://echo.demo:8080/')).pod).toBe('echo-v1');
    const r = await net.execInNode(net.state.nodes[0]!.name, ['curl', '-sS', '--max-time', '5', 'http://echo.demo.svc:8080/']);
    expect(JSON.parse(r.stdout)).toMatchObject({ pod: 'echo-v1' });
  });

  it('hairpins an endpoint calling its own VIP', async () => {
    const j = await curlJson(net, echo1, 'http://echo.demo:8080/');
    expect(j.pod).toBe('echo-v1');
  });

  it('refuses fast on a service without endpoints and forgets removed services', async () => {
    await net.setService({ namespace: 'demo', name: 'empty', ports: [{ port: 80 }], selector: { app: 'nothing' } });
    const t0 = Date.now();
    const r = await net.execInPod(client, ['curl', '-sS', '--max-time', '5', 'http://empty.demo/']);
    expect(r.code).toBe(7); // couldn't connect: REJECT, not a timeout
    expect(Date.now() - t0).toBeLessThan(3000);
    await net.removeService('demo', 'empty');
    const hosts = fs.readFileSync(`/etc/netns/${net.pod(client).netns}/hosts`, 'utf8');
    expect(hosts).not.toContain('empty.demo');
    const saved = (await net.execInNode(net.state.nodes[1]!.name, ['iptables-save'])).stdout;
    expect(saved).not.toContain('demo/empty');
    expect(saved).toContain('demo/echo');
    const dns = await net.execInPod(client, ['curl', '-sS', '--max-time', '5', 'http://empty.demo/']);
    expect(dns.code).toBe(6); // unresolvable, and no query left the pod's own loopback resolver
  });

  it('removePod kills the pod processes and deletes its netns and /etc/netns entry', async () => {
    const ns = net.pod(echo1).netns;
    const pid = echoProc.pid!;
    await net.removePod(echo1);
    expect(procStartTime(pid)).toBeUndefined();
    expect(fs.existsSync(`/run/netns/${ns}`)).toBe(false);
    expect(fs.existsSync(`/etc/netns/${ns}`)).toBe(false);
    expect((await curlJson(net, client, 'http://echo.demo:8080/').catch(() => undefined))).toBeUndefined();
  });

  it('down removes everything and leaves the root netns untouched', async () => {
    const pids = net.state.processes.map((p) => ({ pid: p.pid, startTime: p.startTime }));
    expect(pids.length).toBeGreaterThan(0);
    await net.down();
    expect(owned(prefix)).toEqual({ netns: [], etc: [] });
    expect(pids.some(isAlive)).toBe(false);
    expect(fs.existsSync(path.join(opts.stateDir, 'state.json'))).toBe(false);
    expect(rootSnapshot()).toBe(before);
  });
});

describe('state shared by several instances (separate meshctl invocations)', () => {
  it('serializes allocation through the state file lock', async () => {
    const opts = { cluster: `s${ID}`, prefix: `mtest-${ID}s-`, stateDir: path.join(tmp, 'shared') };
    const a = new LocalNetwork(opts);
    const b = new LocalNetwork(opts);
    try {
      await a.up({ nodes: 1 });
      const node = a.state.nodes[0]!.name;
      const [p1, p2] = await Promise.all([a.addPod(node, 'p1', 'demo'), b.addPod(node, 'p2', 'demo')]);
      expect(p1.ip).not.toBe(p2.ip);
      expect(new LocalNetwork(opts).state.pods.map((p) => p.name).sort()).toEqual(['p1', 'p2']);
    } finally {
      await new LocalNetwork(opts).down();
    }
    expect(owned(opts.prefix)).toEqual({ netns: [], etc: [] });
  }, 30_000);
});

describe('process records and pod removal across invocations', () => {
  const opts = { cluster: `r${ID}`, prefix: `mtest-${ID}r-`, stateDir: path.join(tmp, 'records') };
  const lines: Array<{ msg?: string } & Record<string, unknown>> = [];
  const logger = { debug: () => undefined, info: (obj: object, msg?: string) => void lines.push({ ...obj, msg }) };
  let node = '';

  beforeAll(async () => {
    const a = new LocalNetwork(opts);
    await a.up({ nodes: 1 });
    node = a.state.nodes[0]!.name;
  }, 30_000);
  afterAll(async () => {
    await new LocalNetwork(opts).down();
    expect(owned(opts.prefix)).toEqual({ netns: [], etc: [] });
  }, 30_000);

  it('a process is recorded under the lock: an instance with a stale view loses nobody else’s pods or processes', async () => {
    const a = new LocalNetwork(opts);
    const b = new LocalNetwork(opts);
    await a.addPod(node, 'r1', 'demo');
    await b.addPod(node, 'r2', 'demo'); // a's in-memory view predates r2
    await Promise.all([a.spawnInPod({ namespace: 'demo', name: 'r1' }, ['sleep', '60']), b.spawnInPod({ namespace: 'demo', name: 'r2' }, ['sleep', '60'])]);
    const st = new LocalNetwork(opts).state;
    expect(st.pods.map((p) => p.name).sort()).toEqual(['r1', 'r2']);
    expect(st.processes.map((p) => p.owner).sort()).toEqual(['pod:demo/r1', 'pod:demo/r2']);
  }, 30_000);

  it('pod removal never kills what meshctl started for a node, even with its record lost, and logs kills and spares', async () => {
    const net = new LocalNetwork({ ...opts, logger });
    const pod = await net.addPod(node, 'r3', 'demo');
    const own = await net.spawnInPod({ namespace: 'demo', name: 'r3' }, ['sleep', '61']);
    // A node component with a helper inside the pod netns (as cni-agent's iptables helpers are).
    const component = await net.spawnInNode(node, ['sh', '-c', `ip netns exec ${pod.netns} sleep 62; sleep 63`], { log: path.join(tmp, 'component.log'), label: 'helper-runner' });
    const helperPid = await waitForPid(() => pidsInNetns([pod.netns]).find((p) => fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('sleep\x0062')));
    // Another invocation saved a stale view: the node's records are gone from the state file.
    const st = loadState(opts.stateDir)!;
    saveState(opts.stateDir, { ...st, processes: st.processes.filter((p) => !p.owner.startsWith('node:')) });
    await net.removePod({ namespace: 'demo', name: 'r3' });
    expect(procStartTime(own.pid!)).toBeUndefined();
    expect(isAlive(component)).toBe(true);
    expect(procStartTime(helperPid)).toBeDefined();
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'pod removal kills process', pid: own.pid, reason: 'pod process', pod: 'demo/r3' }));
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'pod removal spares process seen in the pod netns', pid: helperPid, reason: 'started by meshctl for another owner', owner: `node:${node}` }));
    process.kill(component.pid, 'SIGKILL');
  }, 30_000);
});

async function waitForPid(find: () => number | undefined): Promise<number> {
  for (let i = 0; i < 250; i++) {
    const pid = find();
    if (pid !== undefined) return pid;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('process did not appear');
}

describe('down after a crash', () => {
  it('cleans up from the state file, and by name prefix when the state file is gone too', async () => {
    for (const loseState of [false, true]) {
      const prefix = `mtest-${ID}c${loseState ? 1 : 0}-`;
      const opts = { cluster: `c${ID}`, prefix, stateDir: path.join(tmp, `crash-${String(loseState)}`) };
      try {
        const crashed = new LocalNetwork(opts);
        await crashed.up({ nodes: 1 });
        const pod = await crashed.addPod(crashed.state.nodes[0]!.name, 'orphan', 'demo');
        const child = await startEcho(crashed, pod, 'v1', true);
        const victim = { pid: child.pid!, startTime: procStartTime(child.pid!)! };
        // The owner dies without cleaning up; a later invocation only has what is on disk.
        if (loseState) fs.rmSync(path.join(opts.stateDir, 'state.json'));
        const report = await new LocalNetwork(opts).down();
        expect(report.netns.length).toBe(3);
        expect(report.killedPids).toContain(victim.pid);
        expect(isAlive(victim)).toBe(false);
        expect(owned(prefix)).toEqual({ netns: [], etc: [] });
      } finally {
        await new LocalNetwork(opts).down();
      }
    }
  }, 30_000);
});
