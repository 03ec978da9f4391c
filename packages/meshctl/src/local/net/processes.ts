import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { ProcessState } from './state';

export const NETNS_RUN_DIR = '/run/netns';
export const KILL_GRACE_MS = 2_000;
const KILL_POLL_MS = 25;

/** Field 22 of /proc/<pid>/stat (start time in clock ticks); undefined when the pid is gone or a zombie. */
export function procStartTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm (field 2) may contain spaces and parentheses; everything after the last ')' is space-separated.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
  return fields[19];
}

/**
 * Environment variable meshctl sets on every process it starts for a node or a pod (`node:<name>`,
 * `pod:<ns>/<name>`). Children inherit it, and /proc/<pid>/environ belongs to the process that has the pid
 * now, so it identifies what meshctl started even when a state file lost the record or the pid was reused.
 */
export const OWNER_ENV = 'MESH_LOCAL_OWNER';

/** The OWNER_ENV value a process started with; undefined when unset or unreadable. */
export function procOwner(pid: number): string | undefined {
  let environ: string;
  try {
    environ = fs.readFileSync(`/proc/${pid}/environ`, 'latin1');
  } catch {
    return undefined;
  }
  const prefix = `${OWNER_ENV}=`;
  const entry = environ.split('\0').find((e) => e.startsWith(prefix));
  return entry?.slice(prefix.length);
}

/** `comm (cmdline...)` for logs; '' when the process is gone. */
export function procDescription(pid: number): string {
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    return cmdline.length > 200 ? `${cmdline.slice(0, 200)}...` : cmdline;
  } catch {
    return '';
  }
}

export function isAlive(p: Pick<ProcessState, 'pid' | 'startTime'>): boolean {
  return procStartTime(p.pid) === p.startTime;
}

function nsKey(st: fs.Stats): string {
  return `${st.dev}:${st.ino}`;
}

/** Pids whose network namespace is one of `netnsNames` (what `ip netns pids` does, for many netns at once). */
export function pidsInNetns(netnsNames: readonly string[]): number[] {
  const wanted = new Set<string>();
  for (const n of netnsNames) {
    try {
      wanted.add(nsKey(fs.statSync(path.join(NETNS_RUN_DIR, n))));
    } catch {
      // Already deleted: nothing can be found through it.
    }
  }
  if (wanted.size === 0) return [];
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (wanted.has(nsKey(fs.statSync(`/proc/${pid}/ns/net`)))) pids.push(pid);
    } catch {
      // Exited while scanning, or a kernel thread.
    }
  }
  return pids;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM, wait up to `graceMs`, then SIGKILL whatever is left; only processes whose start time still matches. */
export async function killProcesses(
  procs: ReadonlyArray<Pick<ProcessState, 'pid' | 'startTime'>>,
  graceMs = KILL_GRACE_MS,
): Promise<void> {
  const signalAll = (sig: NodeJS.Signals) => {
    for (const p of procs) {
      if (!isAlive(p)) continue;
      try {
        process.kill(p.pid, sig);
      } catch {
        // Raced with its exit.
      }
    }
  };
  signalAll('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (procs.some(isAlive) && Date.now() < deadline) await sleep(KILL_POLL_MS);
  if (!procs.some(isAlive)) return;
  signalAll('SIGKILL');
  const killDeadline = Date.now() + graceMs;
  while (procs.some(isAlive) && Date.now() < killDeadline) await sleep(KILL_POLL_MS);
}

export function snapshot(pids: readonly number[]): Array<Pick<ProcessState, 'pid' | 'startTime'>> {
  const out: Array<Pick<ProcessState, 'pid' | 'startTime'>> = [];
  for (const pid of pids) {
    const startTime = procStartTime(pid);
    if (startTime !== undefined) out.push({ pid, startTime });
  }
  return out;
}

export interface SpawnInNetnsOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Default 'pipe'. A string is a log file path that receives stdout and stderr (appended). */
  stdio?: 'pipe' | 'inherit' | 'ignore' | string;
  /** Survive the spawning process (for `meshctl local up` starting long-running components). */
  detached?: boolean;
}

/**
 * `ip netns exec` (not nsenter) so /etc/netns/<ns>/{hosts,resolv.conf} are bind-mounted over /etc in the child's
 * private mount namespace; ip execs the target, so the returned pid is the program's own.
 */
export function spawnInNetns(netns: string, argv: readonly string[], opts: SpawnInNetnsOptions = {}): ChildProcess {
  let stdio: StdioOptions = 'pipe';
  let logFd: number | undefined;
  if (opts.stdio === 'inherit' || opts.stdio === 'ignore' || opts.stdio === 'pipe') stdio = opts.stdio;
  else if (typeof opts.stdio === 'string') {
    fs.mkdirSync(path.dirname(opts.stdio), { recursive: true });
    logFd = fs.openSync(opts.stdio, 'a');
    stdio = ['ignore', logFd, logFd];
  }
  const child = spawn('ip', ['netns', 'exec', netns, ...argv], {
    stdio,
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    detached: opts.detached ?? false,
  });
  if (logFd !== undefined) fs.closeSync(logFd);
  if (opts.detached) child.unref();
  return child;
}
