import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
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
 * One mesh-netns-exec process that entered a pod netns once and runs commands there in order,
 * without a shell: argv and stdin travel length-prefixed. Commands queue; a command that overruns
 * `timeoutMs` kills the helper (and fails everything queued behind it).
 */
export class NetnsExecSession {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #queue: Pending[] = [];
  #buf = Buffer.alloc(0);
  #dead: Error | undefined;
  #stderr = '';

  readonly netnsPath: string;
  readonly timeoutMs: number;

  constructor(helper: string, netnsPath: string, timeoutMs: number) {
    this.netnsPath = netnsPath;
    this.timeoutMs = timeoutMs;
    this.#child = spawn(helper, [netnsPath], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child.stdout.on('data', (b: Buffer) => this.#onData(b));
    this.#child.stderr.on('data', (b: Buffer) => (this.#stderr += b.toString('utf8')));
    this.#child.stdin.on('error', () => undefined); // a dead helper is reported through 'close'
    this.#child.on('error', (e) => this.#fail(e));
    this.#child.on('close', (code) => this.#fail(new Error(`${helper} exited (${code ?? 'signal'}): ${this.#stderr.trim()}`)));
  }

  run(argv: readonly string[], stdin = ''): Promise<SessionResult> {
    if (this.#dead) return Promise.reject(this.#failure(argv, this.#dead));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#child.kill('SIGKILL');
        this.#fail(new CniRedirectionError('CNI_COMMAND_TIMEOUT', `${argv.join(' ')} did not finish within ${this.timeoutMs} ms`, { command: argv }));
      }, this.timeoutMs);
      this.#queue.push({ argv, resolve, reject, timer });
      const parts = [Buffer.from(`${argv.length}\n`), ...argv.flatMap((a) => frame(Buffer.from(a))), ...frame(Buffer.from(stdin))];
      this.#child.stdin.write(Buffer.concat(parts));
    });
  }

  /** Ends the helper (EOF on its stdin); queued commands still finish first. */
  close(): void {
    this.#child.stdin.end();
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
      p.reject(this.#failure(p.argv, this.#dead));
    }
  }

  #failure(argv: readonly string[], e: Error): CniRedirectionError {
    if (e instanceof CniRedirectionError) return e;
    return new CniRedirectionError('CNI_IPTABLES_FAILED', `cannot run ${argv.join(' ')} in ${this.netnsPath}: ${e.message}`, { command: argv, cause: e });
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
