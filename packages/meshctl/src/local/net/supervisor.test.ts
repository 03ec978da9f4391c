import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { procStartTime } from './processes';
import { spawnSupervised } from './supervisor';

// Real kernel: a network namespace named with this test's prefix; real processes.
const NS = `mtest-${process.pid % 100000}-sup`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), `mtest-${process.pid}-sup-`));
const started: number[] = [];

function alive(pid: number): boolean {
  return procStartTime(pid) !== undefined;
}

async function waitFor(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function exitLine(log: string): Record<string, unknown> | undefined {
  const line = fs.readFileSync(log, 'utf8').split('\n').find((l) => l.includes('component process exited'));
  return line ? (JSON.parse(line) as Record<string, unknown>) : undefined;
}

describe('spawnSupervised', () => {
  beforeAll(() => {
    const r = spawnSync('ip', ['netns', 'add', NS]);
    if (r.status !== 0) throw new Error(`ip netns add ${NS}: ${r.stderr.toString()}`);
  });
  afterAll(() => {
    for (const pid of started) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone.
      }
    }
    spawnSync('ip', ['netns', 'del', NS]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reports the component’s own pid, in the netns, and logs a SIGKILL as an error line', async () => {
    const log = path.join(dir, 'sleep.log');
    const p = await spawnSupervised(NS, ['sleep', '60'], { env: process.env, log, label: 'sleeper on n0' });
    started.push(p.pid, p.supervisorPid);
    expect(p.pid).not.toBe(p.supervisorPid);
    expect(fs.readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0')[0]).toBe('sleep');
    expect(fs.statSync(`/proc/${p.pid}/ns/net`).ino).toBe(fs.statSync(`/run/netns/${NS}`).ino);
    // Signals meant to stop the supervisor itself do not: it stays to report the component's end.
    process.kill(p.supervisorPid, 'SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    expect(alive(p.supervisorPid)).toBe(true);
    process.kill(p.pid, 'SIGKILL');
    await waitFor(() => exitLine(log) !== undefined && !alive(p.supervisorPid));
    expect(exitLine(log)).toMatchObject({ level: 'error', process: 'sleeper on n0', pid: p.pid, exitCode: null, signal: 'SIGKILL' });
  });

  it('logs a clean exit at info with its code, and a failed exec as an error', async () => {
    const ok = path.join(dir, 'ok.log');
    const p = await spawnSupervised(NS, ['sh', '-c', 'sleep 0.2; exit 0'], { env: process.env, log: ok, label: 'ok' });
    started.push(p.pid, p.supervisorPid);
    await waitFor(() => exitLine(ok) !== undefined);
    expect(exitLine(ok)).toMatchObject({ level: 'info', exitCode: 0, signal: null });

    const bad = path.join(dir, 'bad.log');
    await expect(spawnSupervised(NS, ['/nonexistent/binary'], { env: process.env, log: bad, label: 'bad' })).rejects.toMatchObject({
      code: 'LOCAL_NET_SPAWN_FAILED',
    });
    expect(fs.readFileSync(bad, 'utf8')).toMatch(/component process did not start/);
  });
});
