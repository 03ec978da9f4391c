import { spawn } from 'node:child_process';
import type { PodStream } from '../drivers/types';

const STREAM_CLOSE_GRACE_MS = 2_000;

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** A child process with piped stdio as a PodStream (used by both drivers: meshctl exec / kubectl exec -i). */
export function spawnStream(argv: readonly string[], env?: NodeJS.ProcessEnv): PodStream {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new Error('spawnStream: empty argv');
  // Own process group: `meshctl local exec` runs the command as its grandchild (via `ip netns exec`), which
  // inherits the stdout pipe; killing only meshctl would leave it holding the pipe, and 'close' never comes.
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: env ?? process.env, detached: true });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', () => undefined);
  child.stdin.on('error', () => undefined);
  const exited = new Promise<number>((resolve) => {
    child.on('error', () => resolve(127));
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
  return {
    write: (text) => {
      child.stdin.write(text);
    },
    output: () => out,
    exited,
    close: async () => {
      child.stdin.end();
      const t = setTimeout(() => killGroup(child.pid), STREAM_CLOSE_GRACE_MS);
      await exited;
      clearTimeout(t);
    },
  };
}
