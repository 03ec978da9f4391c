/* global URL, process, setTimeout */
// One L4 measurement against one peer: runs the load tool inside the peer's client netns and samples the
// proxies' CPU (utime+stime) and RSS from /proc around it. Every tool run has a deadline.
import fs from 'node:fs';
import path from 'node:path';
import { cpuMicros, hasCommand, processTree, rssBytes, runChild, sh, startChild, stopChild, waitFor } from './sys.mjs';
import { HTTP_BODY_BYTES, PORTS } from './peers.mjs';

const TOOL_SLACK_MS = 15_000;
const LOADS = path.join(path.dirname(new URL(import.meta.url).pathname), 'load');

function proxyPids(peer) {
  return peer.procs.map((p) => ({ label: p.label, pids: processTree(p.child.pid) }));
}

function cpuSnapshot(peer) {
  return proxyPids(peer).map(({ label, pids }) => ({ label, us: pids.reduce((a, pid) => a + cpuMicros(pid), 0) }));
}

/** Per proxy CPU microseconds spent between two snapshots. */
function cpuDelta(before, after) {
  return after.map((a, i) => ({ label: a.label, us: a.us - (before[i]?.us ?? 0) }));
}

export function rssOf(peer) {
  return proxyPids(peer).map(({ label, pids }) => ({ label, bytes: pids.reduce((a, pid) => a + rssBytes(pid), 0) }));
}

async function withCpu(peer, fn) {
  const before = cpuSnapshot(peer);
  const result = await fn();
  return { ...result, cpu: cpuDelta(before, cpuSnapshot(peer)) };
}

/** Runs a load tool that ends its output with one JSON line, and parses that line. */
function runTool(cmd, args, ns, timeoutMs) {
  return runChild(cmd, args.map(String), { ns, timeoutMs }).then((o) => JSON.parse(o.trim().split('\n').pop()));
}

function node(script, args, ns, timeoutMs) {
  return runTool(process.execPath, [path.join(LOADS, script), ...args], ns, timeoutMs);
}

export async function bulk(peer, { durationMs, conns }) {
  const t = peer.target(hasCommand('iperf3') ? PORTS.iperf : PORTS.sink);
  if (!hasCommand('iperf3')) {
    return withCpu(peer, async () => {
      const r = await node('bulk.mjs', [t.host, t.port, durationMs, conns], peer.ns, durationMs + TOOL_SLACK_MS);
      return { gbps: r.gbps, bytes: r.bytes, tool: 'node bulk.mjs' };
    });
  }
  const server = startChild('iperf3-server', 'iperf3', ['-s', '-1', '--forceflush', '-p', String(PORTS.iperf)], { ns: peer.serverNs });
  try {
    await waitFor(() => server.output.includes('Server listening'), 5000, 'iperf3 server');
    return await withCpu(peer, async () => {
      const out = await runChild('iperf3', ['-c', t.host, '-p', String(t.port), '-t', String(Math.max(1, Math.round(durationMs / 1000))), '-P', String(conns), '-J'],
        { ns: peer.ns, timeoutMs: durationMs + TOOL_SLACK_MS });
      const sum = JSON.parse(out).end.sum_received;
      return { gbps: sum.bits_per_second / 1e9, bytes: sum.bytes, tool: 'iperf3' };
    });
  } finally {
    await stopChild(server);
  }
}

export function connRate(peer, { durationMs, concurrency }) {
  const t = peer.target(PORTS.http);
  return withCpu(peer, async () => {
    const r = await node('connrate.mjs', [t.host, t.port, durationMs, concurrency], peer.ns, durationMs + TOOL_SLACK_MS);
    return { connPerS: r.connections / (r.elapsedMs / 1000), connections: r.connections, errors: r.errors };
  });
}

let luaFile;
function postScript(tmp) {
  luaFile ??= path.join(tmp, 'post-1k.lua');
  fs.writeFileSync(luaFile, `wrk.method = "POST"\nwrk.body = string.rep("x", ${HTTP_BODY_BYTES})\nwrk.headers["Content-Type"] = "text/plain"\n`);
  return luaFile;
}

/** Closed loop at `connections`: wrk if installed, else rr.mjs in closed-loop mode. */
export function requestRate(peer, { durationMs, connections, tmp }) {
  const t = peer.target(PORTS.http);
  return withCpu(peer, async () => {
    if (!hasCommand('wrk')) {
      const r = await node('rr.mjs', [t.host, t.port, durationMs, connections, 0, HTTP_BODY_BYTES], peer.ns, durationMs + TOOL_SLACK_MS);
      return { rps: r.rps, requests: r.requests, tool: 'node rr.mjs (closed loop)' };
    }
    const secs = Math.max(1, Math.round(durationMs / 1000));
    const out = await runChild('wrk', ['-t1', `-c${connections}`, `-d${secs}s`, '-s', postScript(tmp), `http://${t.host}:${t.port}/`],
      { ns: peer.ns, timeoutMs: durationMs + TOOL_SLACK_MS });
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
    const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
    if (/Non-2xx|Socket errors/.test(out) && requests === 0) throw new Error(`wrk failed: ${out}`);
    const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
    return { rps, requests, non2xx, tool: 'wrk -t1' };
  });
}

let rrgenBinary;
/** load/rrgen.c compiled once per run into bench/dist (gitignored); null without gcc or when it fails to build. */
function rrgen() {
  if (rrgenBinary !== undefined) return rrgenBinary;
  rrgenBinary = null;
  if (!hasCommand('gcc')) return null;
  const out = path.join(LOADS, '..', '..', 'dist', 'rrgen');
  try {
    fs.mkdirSync(path.dirname(out), { recursive: true });
    // Built under a private name and renamed, so a concurrent run never executes a half-written binary.
    sh('gcc', ['-O2', '-Wall', '-Wextra', '-o', `${out}.${process.pid}`, path.join(LOADS, 'rrgen.c')]);
    fs.renameSync(`${out}.${process.pid}`, out);
    rrgenBinary = out;
  } catch (err) {
    fs.rmSync(`${out}.${process.pid}`, { force: true });
    process.stderr.write(`[bench] rrgen.c did not build (falling back to rr.mjs): ${String(err instanceof Error ? err.message : err).split('\n').slice(0, 3).join(' ')}\n`);
  }
  return rrgenBinary;
}

/** Open loop at `rate`: rrgen (C, sleeps on a timerfd until each scheduled send) if it builds, else rr.mjs (1 ms timers). */
export function fixedRate(peer, { durationMs, connections, rate }) {
  const t = peer.target(PORTS.http);
  const args = [t.host, t.port, durationMs, connections, rate, HTTP_BODY_BYTES];
  const bin = rrgen();
  return withCpu(peer, async () => {
    const r = bin ? await runTool(bin, args, peer.ns, durationMs + TOOL_SLACK_MS) : await node('rr.mjs', args, peer.ns, durationMs + TOOL_SLACK_MS);
    return {
      rps: r.rps, requests: r.requests, p50Us: r.p50Us, p90Us: r.p90Us, p99Us: r.p99Us, errors: r.errors ?? 0,
      tool: bin ? 'rrgen (C, timerfd)' : 'node rr.mjs',
    };
  });
}

/** RSS of each proxy idle, then with `count` idle tunnelled connections open through it. */
export async function idleConnections(peer, { count }) {
  const idle = rssOf(peer);
  if (peer.procs.length === 0) return { idle, loaded: [], open: 0 };
  const t = peer.target(PORTS.echo);
  const holder = startChild('hold', process.execPath, [path.join(LOADS, 'hold.mjs'), t.host, String(t.port), String(count)], { ns: peer.ns });
  try {
    await waitFor(() => holder.output.includes('READY'), 30_000, `${count} idle connections`);
    await new Promise((r) => setTimeout(r, 300));
    const open = Number(/READY (\d+)/.exec(holder.output)?.[1] ?? 0);
    return { idle, loaded: rssOf(peer), open };
  } finally {
    await stopChild(holder);
  }
}
