/* global clearTimeout, process, setTimeout */
// Process and namespace bookkeeping for the benchmarks: every child and netns is registered when created
// and torn down by cleanupAll(), which the entry point runs on exit, failure, SIGINT and SIGTERM.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';

export const NS_PREFIX = `mbench-${process.pid}-`;
const CHILD_STOP_GRACE_MS = 1500;

const children = new Set();
const namespaces = new Set();
const tempDirs = new Set();

export function sh(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...opts });
}

export function hasCommand(name) {
  try {
    sh('sh', ['-c', `command -v ${name}`]);
    return true;
  } catch {
    return false;
  }
}

export function addNetns(suffix) {
  const name = `${NS_PREFIX}${suffix}`;
  sh('ip', ['netns', 'add', name]);
  namespaces.add(name);
  sh('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
  // Short-lived connection tests leave TIME_WAIT sockets behind; reuse them (per namespace sysctls only).
  sh('ip', ['netns', 'exec', name, 'sysctl', '-q', '-w', 'net.ipv4.tcp_tw_reuse=1']);
  sh('ip', ['netns', 'exec', name, 'sysctl', '-q', '-w', 'net.ipv4.ip_local_port_range=10000 65000']);
  return name;
}

export function inNs(ns, ...args) {
  return sh('ip', ['netns', 'exec', ns, ...args]);
}

export function trackTempDir(dir) {
  tempDirs.add(dir);
  return dir;
}

/**
 * Starts a long-lived child (optionally inside a netns). `ready` is a predicate over its combined output or
 * a function returning a promise; the child is killed if it is not ready within readyTimeoutMs.
 */
export function startChild(label, cmd, args, { ns, env, cwd, ipc } = {}) {
  const full = ns ? ['ip', ['netns', 'exec', ns, cmd, ...args]] : [cmd, args];
  const stdio = ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'];
  const child = spawn(full[0], full[1], { env: { ...process.env, ...env }, cwd, stdio, detached: true });
  const entry = { label, child, output: '' };
  const keep = (d) => {
    entry.output = (entry.output + d.toString()).slice(-8000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  children.add(entry);
  child.on('exit', () => children.delete(entry));
  return entry;
}

/** Runs a child to completion with a deadline; resolves its stdout. */
export function runChild(cmd, args, { ns, timeoutMs, env } = {}) {
  return new Promise((resolve, reject) => {
    const entry = startChild(cmd, cmd, args, { ns, env });
    let out = '';
    entry.child.stdout.on('data', (d) => {
      out += d.toString();
    });
    const timer = setTimeout(() => killTree(entry.child, 'SIGKILL'), timeoutMs);
    entry.child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code ?? signal}: ${entry.output.slice(-600)}`));
    });
  });
}

function killTree(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

export async function stopChild(entry) {
  if (entry.child.exitCode !== null || entry.child.signalCode !== null) return;
  const exited = new Promise((r) => entry.child.once('exit', r));
  killTree(entry.child, 'SIGTERM');
  const t = setTimeout(() => killTree(entry.child, 'SIGKILL'), CHILD_STOP_GRACE_MS);
  await exited;
  clearTimeout(t);
}

/** Synchronous so it can run from an 'exit' handler too. */
export function cleanupAllSync() {
  for (const e of children) killTree(e.child, 'SIGKILL');
  children.clear();
  for (const ns of namespaces) {
    try {
      sh('ip', ['netns', 'del', ns]);
    } catch {
      // already gone
    }
  }
  namespaces.clear();
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}

export async function cleanupAll() {
  await Promise.all([...children].map((e) => stopChild(e)));
  cleanupAllSync();
}

/** Descendant pids of `pid` (the real program under `ip netns exec` is its child after exec: same pid). */
export function processTree(pid) {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      const kids = fs.readFileSync(`/proc/${out[i]}/task/${out[i]}/children`, 'utf8').trim();
      if (kids) out.push(...kids.split(/\s+/).map(Number));
    } catch {
      // exited
    }
  }
  return out;
}

const CLK_TCK = 100;

/** utime+stime of one process (all its threads), in microseconds. */
export function cpuMicros(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1e6) / CLK_TCK;
  } catch {
    return 0;
  }
}

export function rssBytes(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export function waitFor(pred, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = async () => {
      let ok = false;
      try {
        ok = await pred();
      } catch {
        ok = false;
      }
      if (ok) return resolve();
      if (Date.now() > deadline) return reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      setTimeout(tick, 50);
    };
    tick();
  });
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** True once something accepts TCP on host:port from inside ns. */
export function tcpReady(ns, host, port) {
  try {
    inNs(ns, 'bash', '-c', `exec 3<>/dev/tcp/${host}/${port}`);
    return true;
  } catch {
    return false;
  }
}
