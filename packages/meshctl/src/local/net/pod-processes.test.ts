import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podProcessVictims, withDescendants } from './pod-processes';
import { OWNER_ENV, procStartTime } from './processes';
import type { ProcessState } from './state';

// Real kernel: one network namespace named with this test's prefix, real processes inside and outside it.
const NS = `mtest-${process.pid % 100000}-podproc`;
const children: ChildProcess[] = [];

function start(argv: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const [cmd, ...args] = argv;
  const child = spawn(cmd ?? 'false', args, { stdio: 'ignore', env });
  children.push(child);
  return child;
}

async function tracked(child: ChildProcess, owner: string, inNetns: boolean): Promise<ProcessState> {
  const pid = child.pid ?? -1;
  const want = inNetns ? fs.statSync(`/run/netns/${NS}`).ino : undefined;
  // `ip netns exec` setns()es then execs: wait until the pid is in the netns (or at least running).
  for (let i = 0; i < 200; i++) {
    const ino = fs.statSync(`/proc/${pid}/ns/net`).ino;
    if (want === undefined || ino === want) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  return { pid, startTime: procStartTime(pid) ?? '', netns: NS, argv: [], owner };
}

describe('podProcessVictims', () => {
  beforeAll(() => {
    const r = spawnSync('ip', ['netns', 'add', NS]);
    if (r.status !== 0) throw new Error(`ip netns add ${NS}: ${r.stderr.toString()}`);
  });
  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
    spawnSync('ip', ['netns', 'del', NS]);
  });

  it('kills the pod’s own tree and netns strays, never a tracked component seen inside the pod netns', async () => {
    const own = await tracked(start(['sh', '-c', 'sleep 60 & sleep 61; wait']), 'pod:ns/a', false);
    const stray = await tracked(start(['ip', 'netns', 'exec', NS, 'sleep', '62']), 'none', true);
    // Stands in for ztunnel while the netns addon holds its main thread in the pod netns.
    const component = await tracked(start(['ip', 'netns', 'exec', NS, 'sleep', '63']), 'node:n0', true);
    const otherPod = await tracked(start(['sleep', '64']), 'pod:ns/b', false);
    await new Promise((r) => setTimeout(r, 100)); // let sh fork its sleeps
    const ownTree = withDescendants([own.pid]);
    expect(ownTree.size).toBeGreaterThanOrEqual(3);

    const result = podProcessVictims({ netns: NS, owner: 'pod:ns/a', own: [own], others: [component, otherPod] });
    const victims = new Set(result.victims.map((v) => v.pid));
    expect(result.victims.find((v) => v.pid === own.pid)?.reason).toBe('pod process');
    expect(result.victims.find((v) => v.pid === stray.pid)?.reason).toBe('stray in the pod netns');
    expect(result.spared).toContainEqual({ pid: component.pid, reason: 'tracked by meshctl for another owner', owner: 'node:n0' });

    for (const pid of ownTree) expect(victims.has(pid)).toBe(true);
    expect(victims.has(stray.pid)).toBe(true);
    expect(victims.has(component.pid)).toBe(false);
    expect(victims.has(otherPod.pid)).toBe(false);
    expect(victims.has(process.pid)).toBe(false);
  });

  it('exempts a tracked component only while it is the same process (pid reuse is not an exemption)', async () => {
    const stray = await tracked(start(['ip', 'netns', 'exec', NS, 'sleep', '65']), 'none', true);
    const stale = { ...stray, owner: 'node:n0', startTime: '1' };
    const victims = podProcessVictims({ netns: NS, owner: 'pod:ns/a', own: [], others: [stale] }).victims.map((v) => v.pid);
    expect(victims).toContain(stray.pid);
  });

  it('never kills an untracked process meshctl started for a node (owner marker), even with a lost state record', async () => {
    const env = (owner: string) => ({ ...process.env, [OWNER_ENV]: owner });
    // A node component whose record a concurrent meshctl's stale save dropped, seen inside the pod netns.
    const lost = await tracked(start(['ip', 'netns', 'exec', NS, 'sleep', '66'], env('node:n0')), 'node:n0', true);
    // Started for this very pod but not (yet) recorded: the pod's, so killed.
    const mine = await tracked(start(['ip', 'netns', 'exec', NS, 'sleep', '67'], env('pod:ns/a')), 'pod:ns/a', true);
    const result = podProcessVictims({ netns: NS, owner: 'pod:ns/a', own: [], others: [] });
    const victims = result.victims.map((v) => v.pid);
    expect(victims).not.toContain(lost.pid);
    expect(result.spared).toContainEqual({ pid: lost.pid, reason: 'started by meshctl for another owner', owner: 'node:n0' });
    expect(victims).toContain(mine.pid);
  });
});
