// A dead data-path worker in the real process: the BUNDLED ztunnel (dist/ztunnel.mjs) with
// ZTUNNEL_WORKER_THREADS=2, fed by the bundled istiod over xDS and connected to a fake CNI agent (ZDS), so it
// is ready as in a cluster (no pods needed). The fault is a genuine uncaught error on one worker's event loop,
// thrown there through the Node inspector (the process runs with --inspect=127.0.0.1:0; no test hook in the
// product). Healthy, the process keeps serving readiness; with the fault it must exit 1 at once, logging
// which worker died and why, so the DaemonSet restarts it instead of leaving a share of connections unserved.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerStats } from '../src/worker/index';
import { FakeAgent, PREFIX, tmpSock } from './fixtures';
import { InspectorClient, type AttachedWorker } from './inspector';
import { bundle, freePort, IstiodProcess, until, ZTUNNEL_BUNDLE, ztunnelEnv } from './processes';

const NODE = 'node-fatal';
const WORKERS = 2;
const VICTIM = 1;
const FAULT = 'injected data-path fault';

let tmp = '';
let istiod: IstiodProcess | undefined;
let agent: FakeAgent | undefined;
let ztunnel: ChildProcess | undefined;
let inspector: InspectorClient | undefined;
let stderr = '';
const ports = { admin: 0, stats: 0, readiness: 0 };

async function readiness(): Promise<number | undefined> {
  return (await fetch(`http://127.0.0.1:${ports.readiness}/healthz/ready`).catch(() => undefined))?.status;
}

async function workerStats(): Promise<WorkerStats[]> {
  return ((await (await fetch(`http://127.0.0.1:${ports.admin}/config_dump`)).json()) as { workers: WorkerStats[] }).workers;
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
}

beforeAll(async () => {
  bundle('istiod');
  bundle('ztunnel');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), `${PREFIX}-fatal-`));
  IstiodProcess.prepare(tmp, 'apiVersion: v1\nkind: Namespace\nmetadata: {name: fatal}', [{ token: 'zt-token', nodeName: NODE }]);
  fs.writeFileSync(path.join(tmp, 'token'), 'zt-token\n');
  istiod = new IstiodProcess(tmp, await freePort());
  await istiod.start();
  agent = new FakeAgent(tmpSock('fatal'));
  for (const k of ['admin', 'stats', 'readiness'] as const) ports[k] = await freePort();
  ztunnel = spawn(process.execPath, ['--inspect=127.0.0.1:0', ZTUNNEL_BUNDLE], {
    env: ztunnelEnv(istiod, { tokenFile: path.join(tmp, 'token'), node: NODE, zdsPath: agent.path, workers: WORKERS, ports }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  ztunnel.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-20_000);
  });
  await until('bundled ztunnel ready', async () => ((await readiness()) === 200 ? true : undefined), 15_000).catch((err: Error) => {
    throw new Error(`${err.message}; ztunnel stderr: ${stderr}`);
  });
}, 30_000);

afterAll(async () => {
  inspector?.close();
  if (ztunnel && ztunnel.exitCode === null && ztunnel.signalCode === null) {
    const exited = exitOf(ztunnel);
    ztunnel.kill('SIGKILL');
    await exited;
  }
  agent?.close();
  await istiod?.kill();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
}, 20_000);

describe(`bundled ztunnel process with ZTUNNEL_WORKER_THREADS=${WORKERS}`, () => {
  let workers: AttachedWorker[] = [];

  it('keeps running and stays ready while every worker is alive (inspector attached)', async () => {
    const url = await until('inspector URL', () => /ws:\/\/127\.0\.0\.1:\d+\/[\w-]+/.exec(stderr)?.[0]);
    inspector = await InspectorClient.connect(url);
    workers = await inspector.attachWorkers(WORKERS);
    const stats = await workerStats();
    expect(stats.map((w) => w.worker)).toEqual([0, 1]);
    expect(workers.map((w) => w.threadId).sort()).toEqual(stats.map((w) => w.threadId).sort());
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 200));
      expect(await readiness()).toBe(200);
    }
    expect([ztunnel!.exitCode, ztunnel!.signalCode]).toEqual([null, null]);
    expect(stderr).not.toContain('data-path worker died');
  });

  it('exits 1 within seconds when a worker dies of an uncaught error, logging which worker and why', async () => {
    const victim = (await workerStats()).find((w) => w.worker === VICTIM)!;
    const session = workers.find((w) => w.threadId === victim.threadId)!;
    const exited = exitOf(ztunnel!);
    const injectedAt = Date.now();
    // Thrown from a timer, not from the evaluation itself, so it is uncaught on the worker's event loop.
    const reply = await inspector!.evaluateInWorker(session.sessionId, `setTimeout(() => { throw new Error('${FAULT}'); }, 0); 'scheduled'`);
    expect(reply).toEqual({ result: { type: 'string', value: 'scheduled' } });
    inspector!.close(); // a process exiting with a debugger attached would wait for it to disconnect
    const result = await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running'), 5_000))]);
    expect(result).toEqual({ code: 1, signal: null });
    expect(Date.now() - injectedAt).toBeLessThan(5_000);
    const fatal = stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === 'data-path worker died');
    expect(fatal, stderr).toBeDefined();
    expect(fatal).toMatchObject({ level: 'fatal', worker: VICTIM, err: { code: 'ZTUNNEL_WORKER_EXITED' } });
    const message = (fatal!.err as { message: string }).message;
    expect(message).toContain(`data-path worker ${VICTIM} died`);
    expect(message).toContain(`Error: ${FAULT}`);
    // One line of reason in the message; the worker's stack once, in its own field.
    expect(message).not.toContain('\n');
    expect(fatal!.workerStack).toEqual(expect.stringContaining(FAULT));
  });
});
