import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CniRedirectionError } from './errors';
import { netnsExecHelper, NetnsExecSession, NetnsHelperPool } from './netns-session';

/** Helpers one pod operation uses at most: one lane per IP family (familyLane). */
const NETNS_HELPER_LANES = 2;

/** Upper bound for one iptables/ip invocation; they normally finish in milliseconds. */
export const NETNS_COMMAND_TIMEOUT_MS = 10_000;
/** Default directory of named network namespaces (`ip netns add NAME`). */
export const NAMED_NETNS_DIR = '/var/run/netns';

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Spawns argv (no shell), feeds `stdin`, and collects output. Rejects only if it cannot run at all. */
export function runCommand(argv: readonly string[], stdin?: string, timeoutMs = NETNS_COMMAND_TIMEOUT_MS): Promise<CommandResult> {
  const [file, ...args] = argv;
  if (!file) return Promise.reject(new TypeError('empty argv'));
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const code = e.code === 'ENOENT' ? 'CNI_IPTABLES_NOT_INSTALLED' : 'CNI_IPTABLES_FAILED';
      reject(new CniRedirectionError(code, `cannot run ${file}: ${e.message}; is it installed and on PATH?`, { command: argv, cause: e }));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString('utf8');
      if (timedOut) {
        reject(
          new CniRedirectionError('CNI_COMMAND_TIMEOUT', `${argv.join(' ')} did not finish within ${timeoutMs} ms`, {
            command: argv,
            stderr,
          }),
        );
        return;
      }
      resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr });
    });
    child.stdin.on('error', () => undefined); // the child may exit before reading stdin; its exit code tells
    child.stdin.end(stdin ?? '');
  });
}

/** The v6 commands of a pod operation run on their own helper, beside the v4 ones. */
export function familyLane(family: 'v4' | 'v6'): number {
  return family === 'v4' ? 0 : 1;
}

/** Resolves a netns given as a path or as an `ip netns` name to a path nsenter can open. */
export function resolveNetnsPath(netns: string): string {
  const path = netns.includes('/') ? netns : `${NAMED_NETNS_DIR}/${netns}`;
  if (!existsSync(path)) {
    throw new CniRedirectionError('CNI_NETNS_NOT_FOUND', `network namespace ${path} does not exist; has the pod sandbox gone away?`);
  }
  return path;
}

const sessions = new Map<string, { readonly session: NetnsExecSession; refs: number }>();

/** How commands reach a pod netns (the agent passes its NETNS_EXEC_HELPER). */
export interface NetnsExecOptions {
  /** mesh-netns-exec path; '' or undefined = look for it beside the bundle; "off" = nsenter per command. */
  readonly netnsExecHelper?: string;
  /**
   * Reuse long-lived helpers across pods (the agent sets it; NetnsHelperPool): an ADD then pays no
   * spawn from the agent, a fork of a large process.
   */
  readonly pooled?: boolean;
}

/**
 * Runs `fn` with one mesh-netns-exec helper serving every runInNetns(netnsPath) call it makes: one
 * spawn from the agent per pod operation instead of one nsenter per command (the CNI ADD latency
 * budget). Without the helper binary, runInNetns keeps spawning nsenter; behaviour is the same.
 */
export async function withNetnsSession<T>(netnsPath: string, fn: () => Promise<T>, opts: NetnsExecOptions = {}): Promise<T> {
  const helper = netnsExecHelper(opts.netnsExecHelper);
  if (helper === undefined) return fn();
  let s = sessions.get(netnsPath);
  if (!s) {
    const session = opts.pooled === true ? poolFor(helper).lease(netnsPath) : new NetnsExecSession(helper, netnsPath, NETNS_COMMAND_TIMEOUT_MS);
    s = { session, refs: 0 };
    sessions.set(netnsPath, s);
  }
  s.refs++;
  try {
    return await fn();
  } finally {
    if (--s.refs === 0) {
      sessions.delete(netnsPath);
      s.session.close();
    }
  }
}

/** The helper session serving `netnsPath` inside withNetnsSession, if any (built-in requests need one). */
export function sessionFor(netnsPath: string): NetnsExecSession | undefined {
  return sessions.get(netnsPath)?.session;
}

/**
 * Runs argv inside the network namespace at `netnsPath` (undefined = the current one). In a helper
 * session, commands of one `lane` run in order and lanes run side by side (NetnsExecSession.run).
 */
export function runInNetns(netnsPath: string | undefined, argv: readonly string[], stdin?: string, lane = 0): Promise<CommandResult> {
  const session = netnsPath === undefined ? undefined : sessions.get(netnsPath)?.session;
  if (session) return session.run(argv, stdin, lane);
  return runCommand(netnsPath === undefined ? argv : ['nsenter', `--net=${netnsPath}`, ...argv], stdin);
}

let pool: NetnsHelperPool | undefined;

function poolFor(helper: string): NetnsHelperPool {
  if (pool?.helper !== helper) {
    pool?.close();
    pool = new NetnsHelperPool(helper, NETNS_COMMAND_TIMEOUT_MS);
  }
  return pool;
}

/** Starts one pooled helper ahead of the first pod (agent start) when `opts.pooled`; no-op without the helper. */
export function prewarmNetnsExec(opts: NetnsExecOptions): void {
  const helper = netnsExecHelper(opts.netnsExecHelper);
  if (helper !== undefined && opts.pooled === true) poolFor(helper).prewarm(NETNS_HELPER_LANES);
}

/** Ends the idle pooled helpers (agent stop). */
export function closeNetnsExecPool(): void {
  pool?.close();
  pool = undefined;
}
