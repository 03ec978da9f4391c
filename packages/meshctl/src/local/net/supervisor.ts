import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalNetError } from './errors';

/** How long the supervisor may take to start the component and report its pid. */
export const SUPERVISOR_START_TIMEOUT_MS = 15_000;
const PID_POLL_MS = 10;

/**
 * The component's parent, so its end is on record: a detached component outlives meshctl, and only a parent
 * learns the exit code or the killing signal. It starts the component (stdio inherited: the component's
 * log), writes the component's pid to a file (tmp + rename; an extra stdio fd would leak into the component),
 * and when the component exits appends one pino-style JSON line
 * to the same log ("component process exited", exitCode / signal; level error unless exit code 0), then
 * exits with it. SIGTERM/SIGINT/SIGHUP are ignored here (libuv gives the component default dispositions)
 * so the supervisor outlives the component it reports on; SIGKILL still ends it.
 */
const SUPERVISOR_SCRIPT = `
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const [label, pidFile, cmd, ...args] = process.argv.slice(1);
const report = (level, fields, msg) => {
  const line = { level, time: new Date().toISOString(), component: 'meshctl-supervisor', process: label, supervisorPid: process.pid, ...fields, msg };
  try { fs.writeSync(2, JSON.stringify(line) + '\\n'); } catch {}
};
for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(s, () => report('info', { signal: s }, 'supervisor got a signal; waiting for the component'));
const child = spawn(cmd, args, { stdio: 'inherit' });
child.on('error', (err) => { report('error', { err: err.message, argv: [cmd, ...args] }, 'component process did not start'); process.exit(127); });
child.on('spawn', () => { try { fs.writeFileSync(pidFile + '.tmp', String(child.pid)); fs.renameSync(pidFile + '.tmp', pidFile); } catch {} });
child.on('exit', (code, signal) => {
  report(code === 0 ? 'info' : 'error', { pid: child.pid, exitCode: code, signal }, 'component process exited');
  process.exit(code ?? 1);
});
`;

export interface SupervisedProcess {
  /** The component's own pid (what status shows and what gets signalled). */
  pid: number;
  supervisorPid: number;
}

export interface SpawnSupervisedOptions {
  env: NodeJS.ProcessEnv;
  /** Receives the component's stdout and stderr and the supervisor's exit line (appended). */
  log: string;
  /** Names the component in the exit line, e.g. `ztunnel on node-a`. */
  label: string;
  timeoutMs?: number;
}

/** Starts `argv` detached in `netns` under a supervisor; resolves once the component runs. */
export async function spawnSupervised(netns: string, argv: readonly string[], opts: SpawnSupervisedOptions): Promise<SupervisedProcess> {
  fs.mkdirSync(path.dirname(opts.log), { recursive: true });
  const pidFile = path.join(os.tmpdir(), `meshctl-supervised-${process.pid}-${randomBytes(6).toString('hex')}.pid`);
  const logFd = fs.openSync(opts.log, 'a');
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, '-e', SUPERVISOR_SCRIPT, opts.label, pidFile, ...argv], {
    stdio: ['ignore', logFd, logFd],
    env: opts.env,
    detached: true,
  });
  fs.closeSync(logFd);
  let exited = false;
  child.once('exit', () => (exited = true));
  child.once('error', () => (exited = true));
  child.unref();
  const fail = (why: string) => new LocalNetError('LOCAL_NET_SPAWN_FAILED', `${opts.label} did not start (${why}); see ${opts.log}`);
  const timeoutMs = opts.timeoutMs ?? SUPERVISOR_START_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const pid = readPid(pidFile);
      if (pid !== undefined && child.pid !== undefined) return { pid, supervisorPid: child.pid };
      if (exited) throw fail('the supervisor exited before the component ran');
      if (Date.now() > deadline) throw fail(`no pid within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, PID_POLL_MS));
    }
  } finally {
    fs.rmSync(pidFile, { force: true });
    fs.rmSync(`${pidFile}.tmp`, { force: true });
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(file, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
