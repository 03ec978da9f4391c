import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canUseNetns, createTestNetns, currentNetnsInodes, type TestNetns } from '../test/netns-fixture';
import { closeFd, createSocketInNetns, getLocalAddress, listenInNetns, loadAddon, netnsInode, openNetns } from './index';

const pkgDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const builtAddon = path.join(pkgDir, 'build', 'Release', 'mesh_netns.node');
const MIN_BUSY_MS = 300;
const MAX_BUSY_MS = 3_000;
const BURST = 200;

/**
 * A separate process that watches every thread of `pid` (as meshctl's pod teardown and `ip netns pids` would)
 * and reports each thread it saw inside the netns `ino`: "M" for the main thread (tid == pid), "H" for any other.
 */
const OBSERVER = `
const fs = require('fs');
const pid = Number(process.argv[1]), ino = Number(process.argv[2]);
const inNs = (tid) => { try { return fs.statSync('/proc/' + pid + '/task/' + tid + '/ns/net').ino === ino; } catch { return false; } };
let stop = false, main = 0, helper = 0, samples = 0;
process.stdin.on('end', () => { stop = true; }); process.stdin.resume();
const tick = () => {
  const until = Date.now() + 20;
  while (Date.now() < until) {
    samples++;
    if (inNs(pid) && main++ === 0) process.stdout.write('M\\n');
    for (const t of fs.readdirSync('/proc/' + pid + '/task')) {
      if (Number(t) !== pid && inNs(t) && helper++ === 0) process.stdout.write('H\\n');
      if (inNs(pid) && main++ === 0) process.stdout.write('M\\n');
    }
  }
  if (stop) process.stdout.write(JSON.stringify({ samples, main, helper }) + '\\n'); else setImmediate(tick);
};
process.stdout.write('ready\\n');
tick();
`;

interface ObserverResult {
  samples: number;
  main: number;
  helper: number;
}

function startObserver(ino: number): { child: ChildProcessWithoutNullStreams; out: () => string } {
  const child = spawn(process.execPath, ['-e', OBSERVER, String(process.pid), String(ino)]);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return { child, out: () => out };
}

async function until(cond: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}

describe.skipIf(!canUseNetns)('the JS thread never enters the pod netns (needs root and ip)', () => {
  let ns: TestNetns;
  let nsFd: number;
  const before = currentNetnsInodes();

  beforeAll(() => {
    ns = createTestNetns('main');
    nsFd = openNetns(ns.path);
  });
  afterAll(() => {
    if (nsFd !== undefined) closeFd(nsFd);
    ns?.destroy();
  });

  /** Runs `burst` until the observer saw the helper in the pod netns (or the main thread, a failure). */
  async function observe(burst: () => Promise<void> | void): Promise<void> {
    const podIno = netnsInode(nsFd);
    const obs = startObserver(podIno);
    try {
      await until(() => obs.out().includes('ready'), 5_000);
      const started = Date.now();
      let created = 0;
      // Socket creation back to back, yielding between bursts so the observer's output can arrive. Runs until
      // the observer has seen the helper inside the pod netns (proving it can see a thread there) and at least
      // MIN_BUSY_MS have passed; the old setns-on-the-main-thread addon is caught within a few ms.
      while (Date.now() - started < MAX_BUSY_MS) {
        await burst();
        created += BURST;
        expect(currentNetnsInodes()).toEqual(before);
        await new Promise((r) => setImmediate(r));
        if (obs.out().includes('M')) break;
        if (obs.out().includes('H') && Date.now() - started >= MIN_BUSY_MS) break;
      }
      obs.child.stdin.end();
      await until(() => obs.out().includes('{'), 5_000);
      const result = JSON.parse(obs.out().slice(obs.out().indexOf('{'))) as ObserverResult;
      expect(result.main, `main thread seen in the pod netns (${created} sockets created)`).toBe(0);
      expect(result.helper, 'the observer never saw the helper thread in the pod netns').toBeGreaterThan(0);
      expect(result.samples).toBeGreaterThan(100);
    } finally {
      obs.child.kill('SIGKILL');
    }
    expect(currentNetnsInodes()).toEqual(before);
  }

  it('an observer of /proc/<pid>/task/*/ns/net sees only the helper thread in the pod netns, never the main thread', async () => {
    await observe(() => {
      for (let i = 0; i < BURST; i++) closeFd(createSocketInNetns(nsFd, { family: i % 2 ? 6 : 4 }));
    });
  });

  it('the same holds for asynchronous batches (socketsInNetnsAsync)', async () => {
    await observe(async () => {
      const batches = Array.from({ length: BURST / 8 }, (_, i) =>
        new Promise<void>((resolve, reject) =>
          loadAddon().socketsInNetnsAsync(nsFd, i % 2 ? 6 : 4, 8, (err, fds) => {
            for (const fd of fds) closeFd(fd);
            if (err === null) resolve();
            else reject(err);
          }),
        ),
      );
      await Promise.all(batches);
    });
  });

  it('sockets still belong to the pod netns: a listener there is reachable from inside only', async () => {
    const fd = listenInNetns(nsFd, { host: '127.0.0.1', port: 0 });
    try {
      const { port } = getLocalAddress(fd);
      // bind(2) on the same port in the pod netns fails only if the first listener lives there.
      const script = `require('net').createServer().once('error',e=>{process.stdout.write(e.code);process.exit(0)}).listen(${port},'127.0.0.1',()=>{process.stdout.write('free');process.exit(0)})`;
      expect(await ns.node(script)).toBe('EADDRINUSE');
    } finally {
      closeFd(fd);
    }
  });

  it('uses one persistent helper thread: repeated calls do not add threads', () => {
    closeFd(createSocketInNetns(nsFd));
    const threads = fs.readdirSync('/proc/self/task').length;
    for (let i = 0; i < 500; i++) closeFd(createSocketInNetns(nsFd));
    expect(fs.readdirSync('/proc/self/task').length).toBe(threads);
  });

  it.skipIf(!fs.existsSync(builtAddon))('serves several JS threads at once (Node workers) without deadlock', async () => {
    const code = `
      const { parentPort, workerData } = require('worker_threads');
      const addon = require(workerData.addon);
      for (let i = 0; i < 300; i++) addon.closeFd(addon.createSocketInNetns(workerData.nsFd, {}));
      parentPort.postMessage('ok');`;
    const workers = [0, 1, 2].map(
      () => new Worker(code, { eval: true, workerData: { addon: builtAddon, nsFd } }),
    );
    const done = workers.map((w) => new Promise((resolve, reject) => w.once('message', resolve).once('error', reject)));
    for (let i = 0; i < 300; i++) closeFd(createSocketInNetns(nsFd));
    expect(await Promise.all(done)).toEqual(['ok', 'ok', 'ok']);
    await Promise.all(workers.map((w) => w.terminate()));
    expect(currentNetnsInodes()).toEqual(before);
  });
});
