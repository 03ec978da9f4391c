import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CniRedirectionError } from './errors';

/** Helper setting meaning "never the helper": one nsenter per command (the agent's NETNS_EXEC_HELPER=off). */
export const NETNS_EXEC_OFF = 'off';
export const NETNS_EXEC_FILENAME = 'mesh-netns-exec';

export interface SessionResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

interface Pending {
  readonly argv: readonly string[];
  readonly where: string;
  readonly resolve: (r: SessionResult) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** The search result (null = none found), cached: the files beside the bundle do not come and go. */
let foundHelper: string | null | undefined;

/**
 * The mesh-netns-exec binary (native-plugin/netns-exec.c) to use, or undefined for nsenter.
 * `setting` is the agent's NETNS_EXEC_HELPER (library code reads no env): "off" = none; a path =
 * that file when it exists; empty (or a missing path) = looked for beside this module or the entry
 * script (a bundle in dist/ with the helper copied next to it), then in the package's
 * native-plugin/build/ (source tree, bench scripts).
 */
export function netnsExecHelper(setting = ''): string | undefined {
  if (setting === NETNS_EXEC_OFF) return undefined;
  if (setting !== '' && existsSync(setting)) return setting;
  foundHelper ??= findNetnsExecHelper() ?? null;
  return foundHelper ?? undefined;
}

function findNetnsExecHelper(): string | undefined {
  const dirs = [dirname(fileURLToPath(import.meta.url)), ...(process.argv[1] ? [dirname(process.argv[1])] : [])];
  const candidates = [
    ...dirs.map((d) => join(d, NETNS_EXEC_FILENAME)),
    ...dirs.flatMap((d) => [join(d, '..', 'native-plugin', 'build', NETNS_EXEC_FILENAME), join(d, '..', '..', 'native-plugin', 'build', NETNS_EXEC_FILENAME)]),
  ];
  return candidates.find((c) => existsSync(c));
}

/** Tests: forget the cached lookup (e.g. after building the helper). */
export function resetNetnsExecHelper(): void {
  foundHelper = undefined;
}

const frame = (b: Buffer): Buffer[] => [Buffer.from(`${b.length}\n`), b];

/**
 * One mesh-netns-exec process: runs commands in order, without a shell (argv and stdin travel
 * length-prefixed). Commands queue; one that overruns `timeoutMs` kills the helper (and fails
 * everything queued behind it). `where` names the netns in error messages.
 */
class HelperProcess {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #queue: Pending[] = [];
  readonly #timeoutMs: number;
  #buf = Buffer.alloc(0);
  #dead: Error | undefined;
  #stderr = '';
  /** Whether the helper knows the `@` built-ins (undefined = not asked yet; older binaries do not). */
  builtins: boolean | undefined;

  constructor(helper: string, args: readonly string[], timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
    this.#child = spawn(helper, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child.stdout.on('data', (b: Buffer) => this.#onData(b));
    this.#child.stderr.on('data', (b: Buffer) => (this.#stderr += b.toString('utf8')));
    this.#child.stdin.on('error', () => undefined); // a dead helper is reported through 'close'
    this.#child.on('error', (e) => this.#fail(e));
    this.#child.on('close', (code) => this.#fail(new Error(`${helper} exited (${code ?? 'signal'}): ${this.#stderr.trim()}`)));
  }

  get dead(): boolean {
    return this.#dead !== undefined;
  }

  run(argv: readonly string[], stdin: string, where: string): Promise<SessionResult> {
    if (this.#dead) return Promise.reject(failure(argv, where, this.#dead));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#child.kill('SIGKILL');
        this.#fail(new CniRedirectionError('CNI_COMMAND_TIMEOUT', `${argv.join(' ')} did not finish within ${this.#timeoutMs} ms`, { command: argv }));
      }, this.#timeoutMs);
      this.#queue.push({ argv, where, resolve, reject, timer });
      const parts = [Buffer.from(`${argv.length}\n`), ...argv.flatMap((a) => frame(Buffer.from(a))), ...frame(Buffer.from(stdin))];
      this.#child.stdin.write(Buffer.concat(parts));
    });
  }

  /** Ends the helper (EOF on its stdin); queued commands still finish first. */
  close(): void {
    this.#child.stdin.end();
  }

  kill(): void {
    this.#child.kill('SIGKILL');
  }

  /** Whether an idle helper keeps the agent's event loop alive (a pooled idle one must not). */
  setRef(ref: boolean): void {
    for (const s of [this.#child.stdin, this.#child.stdout, this.#child.stderr, this.#child]) {
      const h = s as unknown as Socket;
      if (ref) h.ref();
      else h.unref();
    }
  }

  #onData(b: Buffer): void {
    this.#buf = Buffer.concat([this.#buf, b]);
    for (;;) {
      const parsed = parseResponse(this.#buf);
      if (!parsed) return;
      this.#buf = this.#buf.subarray(parsed.used);
      const p = this.#queue.shift();
      if (!p) return;
      clearTimeout(p.timer);
      p.resolve(parsed.result);
    }
  }

  #fail(e: Error): void {
    this.#dead ??= e;
    for (const p of this.#queue.splice(0)) {
      clearTimeout(p.timer);
      p.reject(failure(p.argv, p.where, this.#dead));
    }
  }
}

function failure(argv: readonly string[], where: string, e: Error): CniRedirectionError {
  if (e instanceof CniRedirectionError) return e;
  return new CniRedirectionError('CNI_IPTABLES_FAILED', `cannot run ${argv.join(' ')} in ${where}: ${e.message}`, { command: argv, cause: e });
}

/**
 * The commands of one pod operation, all inside `netnsPath`: on a helper of its own (started with
 * the netns path) or on one leased from a NetnsHelperPool (sent into the netns first, handed back
 * after close).
 */
export class NetnsExecSession {
  readonly netnsPath: string;
  readonly timeoutMs: number;
  readonly #proc: HelperProcess;
  readonly #release: (() => void) | undefined;
  readonly #openLane: (() => NetnsExecSession) | undefined;
  readonly #lanes = new Map<number, NetnsExecSession>();

  constructor(
    helper: string,
    netnsPath: string,
    timeoutMs: number,
    leased?: { proc: HelperProcess; release: () => void; openLane: () => NetnsExecSession },
  ) {
    this.netnsPath = netnsPath;
    this.timeoutMs = timeoutMs;
    this.#proc = leased?.proc ?? new HelperProcess(helper, [netnsPath], timeoutMs);
    this.#release = leased?.release;
    this.#openLane = leased?.openLane;
  }

  get builtins(): boolean | undefined {
    return this.#proc.builtins;
  }

  set builtins(v: boolean | undefined) {
    this.#proc.builtins = v;
  }

  /**
   * Runs argv in the netns. Commands of one lane run in order; in a pooled session lane N > 0 is
   * another helper in the same netns (leased on first use), so independent work (the v4 and v6
   * restores) runs side by side. A session of its own runs every lane on its one helper.
   */
  run(argv: readonly string[], stdin = '', lane = 0): Promise<SessionResult> {
    if (lane === 0 || this.#openLane === undefined) return this.#proc.run(argv, stdin, this.netnsPath);
    let other = this.#lanes.get(lane);
    if (!other) {
      other = this.#openLane();
      this.#lanes.set(lane, other);
    }
    return other.run(argv, stdin);
  }

  /** Ends the session: its own helpers exit after the queued commands; leased ones go back. */
  close(): void {
    for (const l of this.#lanes.values()) l.close();
    this.#lanes.clear();
    if (this.#release) this.#release();
    else this.#proc.close();
  }
}

/** Idle helpers kept beyond this are ended: concurrent ADDs are few per node. */
export const NETNS_HELPER_POOL_MAX_IDLE = 4;

/**
 * Long-lived mesh-netns-exec helpers (started with --wait) reused across pods: an ADD then pays no
 * spawn from the agent (a fork of a large process, ~2 ms and more under load). A lease sends the
 * helper into the pod's netns ("@setns PATH"; a failure ends that helper, so nothing queued behind
 * it runs elsewhere); the release sends it back home ("@setns") so it never pins a pod's netns.
 */
export class NetnsHelperPool {
  readonly helper: string;
  readonly timeoutMs: number;
  readonly #idle: HelperProcess[] = [];
  #closed = false;

  constructor(helper: string, timeoutMs: number) {
    this.helper = helper;
    this.timeoutMs = timeoutMs;
  }

  get idleCount(): number {
    return this.#idle.filter((p) => !p.dead).length;
  }

  lease(netnsPath: string): NetnsExecSession {
    let proc = this.#idle.pop();
    while (proc?.dead) proc = this.#idle.pop();
    proc ??= new HelperProcess(this.helper, ['--wait'], this.timeoutMs);
    proc.setRef(true);
    const leased = proc;
    leased.run(['@setns', netnsPath], '', netnsPath).catch(() => undefined);
    return new NetnsExecSession(this.helper, netnsPath, this.timeoutMs, {
      proc: leased,
      release: () => this.#giveBack(leased),
      openLane: () => this.lease(netnsPath),
    });
  }

  /** Starts helpers until `count` are idle (agent start: one per IP family's lane). */
  prewarm(count: number): void {
    while (this.idleCount < count) this.#park(new HelperProcess(this.helper, ['--wait'], this.timeoutMs));
  }

  /** Ends the idle helpers; leased ones end when handed back. */
  close(): void {
    this.#closed = true;
    for (const p of this.#idle.splice(0)) p.kill();
  }

  /**
   * Parked at once, without waiting for the answer: the helper serves requests in order, so the next
   * lease's "@setns PATH" runs after this one; a failed return ends the helper (exit 3) and with it
   * whatever was queued. Waiting instead made a quick next ADD spawn a new helper.
   */
  #giveBack(proc: HelperProcess): void {
    if (proc.dead) return;
    proc.run(['@setns'], '', 'the agent netns').catch(() => undefined);
    if (!this.#closed && this.idleCount < NETNS_HELPER_POOL_MAX_IDLE) this.#park(proc);
    else proc.close();
  }

  #park(proc: HelperProcess): void {
    proc.setRef(false);
    this.#idle.push(proc);
  }
}

/** `<code>\n<len>\n<stdout><len>\n<stderr>`, or undefined while incomplete. */
function parseResponse(buf: Buffer): { result: SessionResult; used: number } | undefined {
  let at = 0;
  const num = (): number | undefined => {
    const nl = buf.indexOf(0x0a, at);
    if (nl < 0) return undefined;
    const n = Number(buf.subarray(at, nl).toString('latin1'));
    at = nl + 1;
    return n;
  };
  const bytes = (): string | undefined => {
    const n = num();
    if (n === undefined || buf.length < at + n) return undefined;
    const s = buf.subarray(at, at + n).toString('utf8');
    at += n;
    return s;
  };
  const code = num();
  const stdout = code === undefined ? undefined : bytes();
  const stderr = stdout === undefined ? undefined : bytes();
  if (code === undefined || stdout === undefined || stderr === undefined) return undefined;
  return { result: { code, stdout, stderr }, used: at };
}
