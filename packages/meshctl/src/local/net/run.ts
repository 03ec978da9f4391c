import { spawn } from 'node:child_process';
import { CommandError } from './errors';

export interface RunOptions {
  /** Written to the child's stdin, then stdin is closed (used by `ip -batch -` and `iptables-restore`). */
  input?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const DEFAULT_RUN_TIMEOUT_MS = 30_000;

/** Runs argv without a shell (no injection through names) and collects its output. Never throws on exit code. */
export function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) return Promise.reject(new CommandError(argv, null, 'empty argv'));
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
      timeout: opts.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS,
      killSignal: 'SIGKILL',
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new CommandError(argv, null, e.message, e)));
    child.on('close', (code) =>
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    );
    // EPIPE when the child exits before reading everything surfaces as its exit code instead.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** Like `run` but throws CommandError on a non-zero exit. */
export async function runOk(argv: readonly string[], opts: RunOptions = {}): Promise<string> {
  const r = await run(argv, opts);
  if (r.code !== 0) throw new CommandError(argv, r.code, r.stderr);
  return r.stdout;
}

/** Runs many `ip` commands in one process inside netns `ns` (`ip -n ns -batch -`); one fork instead of N. */
export async function ipBatch(ns: string | undefined, lines: readonly string[], force = false): Promise<void> {
  if (lines.length === 0) return;
  const argv = ['ip', ...(ns ? ['-n', ns] : []), ...(force ? ['-force'] : []), '-batch', '-'];
  await runOk(argv, { input: lines.join('\n') + '\n' });
}
