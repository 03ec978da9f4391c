// The in-pod e2e once more, but with everything as in a cluster: the BUNDLED ztunnel (dist/ztunnel.mjs)
// as a process, configured only through env, fed by the bundled istiod (directory config) over xDS + CA.
// Pod A -> pod B and pod A -> Service VIP (80 -> B:8080) go through the real in-pod redirect and HBONE.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeFd, listenInNetns, openNetns, serverFromFd } from '@mesh/netns';
import { createPods, deletePods, echoRoundTrip, FakeAgent, PREFIX, tmpSock, type Pod } from './fixtures';
import { bundle, freePort, IstiodProcess, podManifest, until, ZTUNNEL_BUNDLE, ztunnelEnv } from './processes';

const NODE = 'node-1';
const NS = 'e2e';
const A: Pod = { ns: `${PREFIX}-ba`, ip: '10.77.0.2', name: 'client', namespace: NS, sa: 'sa-a' };
const B: Pod = { ns: `${PREFIX}-bb`, ip: '10.77.0.3', name: 'server', namespace: NS, sa: 'sa-b' };
const ECHO_PORT = 8080;

const manifests = [
  `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${NS}, labels: {istio.io/dataplane-mode: ambient}}`,
  podManifest({ ...A, node: NODE, app: 'client' }),
  podManifest({ ...B, node: NODE, app: 'echo' }),
  `apiVersion: v1\nkind: Service\nmetadata: {name: echo, namespace: ${NS}}\nspec: {clusterIP: 10.96.77.10, selector: {app: echo}, ports: [{port: 80, targetPort: ${ECHO_PORT}}]}`,
  `apiVersion: v1\nkind: Service\nmetadata: {name: empty, namespace: ${NS}}\nspec: {clusterIP: 10.96.77.20, selector: {app: nothing}, ports: [{port: 80, targetPort: ${ECHO_PORT}}]}`,
].join('\n---\n');

let tmp = '';
let istiod: IstiodProcess | undefined;
let ztunnel: ChildProcess | undefined;
let ztStderr = '';
let agent: FakeAgent | undefined;
let echo: net.Server | undefined;
const echoPeers: string[] = [];
const ports = { admin: 0, stats: 0, readiness: 0 };
const nsFds: number[] = [];

function roundTrip(dstIp: string, port: number, payload: string): Promise<string> {
  return echoRoundTrip(nsFds[0]!, dstIp, port, payload);
}

async function metrics(): Promise<string> {
  return (await fetch(`http://127.0.0.1:${ports.stats}/metrics`)).text();
}

beforeAll(async () => {
  bundle('istiod');
  bundle('ztunnel');
  deletePods(A, B);
  createPods(A, B);
  nsFds.push(openNetns(`/var/run/netns/${A.ns}`), openNetns(`/var/run/netns/${B.ns}`));
  echo = await serverFromFd(listenInNetns(nsFds[1]!, { host: '0.0.0.0', port: ECHO_PORT }), net.createServer((s) => {
    echoPeers.push(s.remoteAddress ?? '');
    s.on('error', () => undefined);
    s.pipe(s);
  }));
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), `${PREFIX}-bundle-`));
  IstiodProcess.prepare(tmp, manifests, [{ token: 'zt-token', nodeName: NODE }]);
  fs.writeFileSync(path.join(tmp, 'token'), 'zt-token\n');
  istiod = new IstiodProcess(tmp, await freePort());
  await istiod.start();
}, 60_000);

/** The bundled ztunnel as a process with `workers` data-path event loops, ready and holding pods A and B. */
async function startZtunnel(workers: number): Promise<void> {
  agent = new FakeAgent(tmpSock(`bundle-${workers}`));
  for (const k of ['admin', 'stats', 'readiness'] as const) ports[k] = await freePort();
  ztunnel = spawn(process.execPath, [ZTUNNEL_BUNDLE], {
    env: ztunnelEnv(istiod!, { tokenFile: path.join(tmp, 'token'), node: NODE, zdsPath: agent.path, workers, ports }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  ztunnel.stderr?.on('data', (d: Buffer) => {
    ztStderr = (ztStderr + d.toString()).slice(-4000);
  });
  await until('bundled ztunnel ready', async () => {
    const res = await fetch(`http://127.0.0.1:${ports.readiness}/healthz/ready`).catch(() => undefined);
    return res?.status === 200 ? true : undefined;
  }, 20_000).catch((err: Error) => {
    throw new Error(`${err.message}; ztunnel stderr: ${ztStderr}`);
  });
  expect(await agent.addPod(A, 'uid-a')).toBe('');
  expect(await agent.addPod(B, 'uid-b')).toBe('');
}

async function stopZtunnel(): Promise<void> {
  if (ztunnel && ztunnel.exitCode === null) {
    const exited = new Promise((r) => ztunnel!.once('exit', r));
    ztunnel.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3_000))]);
    ztunnel.kill('SIGKILL');
  }
  agent?.close();
}

afterAll(async () => {
  await stopZtunnel();
  echo?.close();
  await istiod?.kill();
  for (const fd of nsFds) closeFd(fd);
  deletePods(A, B);
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
}, 20_000);

describe.each([1, 2])('bundled ztunnel process, configured by istiod, ZTUNNEL_WORKER_THREADS=%i', (workers) => {
  beforeAll(() => startZtunnel(workers), 60_000);
  afterAll(() => stopZtunnel(), 20_000);

  it('carries pod A -> pod B over HBONE with certificates from istiod', async () => {
    const payload = 'bundled hbone '.repeat(40);
    expect(await roundTrip(B.ip, ECHO_PORT, payload)).toBe(payload);
    expect(echoPeers.at(-1)).toBe(A.ip);
    expect(await metrics()).toMatch(
      new RegExp(`istio_tcp_connections_opened_total\\{[^}]*reporter="destination"[^}]*source_principal="spiffe://cluster.local/ns/${NS}/sa/${A.sa}"[^}]*connection_security_policy="mutual_tls"`),
    );
  });

  it('load-balances the Service VIP to pod B\'s target port', async () => {
    const before = echoPeers.length;
    expect(await roundTrip('10.96.77.10', 80, 'via vip')).toBe('via vip');
    expect(echoPeers.length).toBe(before + 1);
    expect(await metrics()).toMatch(/istio_tcp_connections_opened_total\{reporter="source"[^}]*destination_service="echo\.e2e\.svc\.cluster\.local"/);
  });

  it('closes a connection to a Service without endpoints and counts it failed', async () => {
    expect(await roundTrip('10.96.77.20', 80, 'x')).toBe('');
    expect(await metrics()).toMatch(/istio_tcp_connections_failed_total\{reporter="source"[^}]*destination_service="empty\.e2e\.svc\.cluster\.local"[^}]*response_flags="CONNECT"[^}]*\} 1/);
  });

  it.runIf(workers > 1)('runs the pods on every worker with the state istiod sent', async () => {
    const dump = (await (await fetch(`http://127.0.0.1:${ports.admin}/config_dump`)).json()) as {
      workers: { worker: number; pods: Record<string, number>; workloads: number }[];
    };
    expect(dump.workers.map((w) => w.worker)).toEqual([0, 1]);
    for (const w of dump.workers) {
      expect(Object.keys(w.pods).sort()).toEqual(['uid-a', 'uid-b']);
      expect(w.workloads).toBeGreaterThanOrEqual(2);
    }
  });

  it('drains on SIGTERM and exits 0 (every worker stopped in time)', async () => {
    const child = ztunnel!;
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running'), 8_000))])).toBe(0);
  });
});
