// xDS + CA round trip against the real, bundled istiod process (spawned, not imported: apps never import
// each other). istiod reads a directory of manifests; ztunnel (in-process, built exactly as main.ts builds
// it) connects with a token from istiod's tokens file, syncs workloads/services/policies, fetches a
// certificate for a pod on its node, and survives a kill -9 + restart of istiod with its last state.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@mesh/core';
import { ztunnelConfig, ztunnelFromConfig, type ConfiguredZtunnel } from '../src/app/index';
import { FakeAgent, PREFIX, tmpSock } from './fixtures';

const REPO = path.resolve(__dirname, '../../..');
const ISTIOD_BUNDLE = path.join(REPO, 'packages/istiod/dist/istiod.mjs');
const NODE = 'node-1';
const POD_IDENTITY = 'spiffe://cluster.local/ns/ns1/sa/web-sa';

let tmp: string;
let grpcPort: number;
let istiod: ChildProcess | undefined;
let zt: ConfiguredZtunnel | undefined;
let agent: FakeAgent | undefined;

const manifests = `apiVersion: v1
kind: Namespace
metadata: {name: ns1, labels: {istio.io/dataplane-mode: ambient}}
---
${pod('web-1', NODE, '10.1.0.5')}
---
${pod('web-2', 'node-2', '10.1.0.6')}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ns1}
spec: {clusterIP: 10.96.1.1, selector: {app: web}, ports: [{name: http, port: 80, targetPort: 8080}]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-9090, namespace: ns1}
spec: {action: DENY, rules: [{to: [{operation: {ports: ["9090"]}}]}]}
`;

function pod(name: string, node: string, ip: string): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ns1, labels: {app: web}, annotations: {ambient.istio.io/redirection: enabled}}
spec: {nodeName: ${node}, serviceAccountName: web-sa, containers: [{name: app, image: x}]}
status: {phase: Running, podIP: ${ip}, conditions: [{type: Ready, status: "True"}]}`;
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function startIstiod(): ChildProcess {
  const child = spawn(process.execPath, [ISTIOD_BUNDLE], {
    env: {
      PATH: process.env.PATH ?? '',
      CONFIG_SOURCE: `dir:${path.join(tmp, 'config')}`,
      AUTH_TOKENS_FILE: path.join(tmp, 'tokens.yaml'),
      CA_STATE_DIR: path.join(tmp, 'ca'),
      ROOT_CERT_OUTPUT: path.join(tmp, 'root-cert.pem'),
      BIND_ADDRESS: '127.0.0.1',
      GRPC_PORT: String(grpcPort),
      MONITORING_PORT: '0',
      READINESS_PORT: '0',
      PILOT_DEBOUNCE_AFTER: '10ms',
      PROCESS_METRICS: 'false',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.on('data', () => undefined);
  return child;
}

async function grpcAccepting(): Promise<true | undefined> {
  return new Promise((resolve) => {
    const s = net.connect(grpcPort, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(undefined));
  });
}

interface Dump {
  workloads?: { name?: string; node?: string }[];
  services?: { name?: string; hostname?: string }[];
  policies?: { name?: string }[];
  certificates?: { identity: string; state: string; certChain: unknown[] }[];
}

async function dump(): Promise<Dump> {
  const res = await fetch(`${zt!.app.opsServers!.admin.url}/config_dump`);
  return (await res.json()) as Dump;
}

async function readyStatus(): Promise<number> {
  return (await fetch(`${zt!.app.opsServers!.readiness.url}/healthz/ready`)).status;
}

beforeAll(async () => {
  execFileSync(process.execPath, [path.join(REPO, 'tools/bundle.mjs'), 'istiod'], { cwd: REPO, stdio: 'pipe' });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), `${PREFIX}-xds-`));
  fs.mkdirSync(path.join(tmp, 'config'));
  fs.writeFileSync(path.join(tmp, 'config', 'mesh.yaml'), manifests);
  fs.writeFileSync(path.join(tmp, 'tokens.yaml'), `tokens:\n- {token: zt-token, namespace: istio-system, serviceAccount: ztunnel, podName: ztunnel-1, nodeName: ${NODE}}\n`);
  fs.writeFileSync(path.join(tmp, 'token'), 'zt-token\n');
  grpcPort = await freePort();
  istiod = startIstiod();
  await until('istiod root cert', () => (fs.existsSync(path.join(tmp, 'root-cert.pem')) ? true : undefined));
  await until('istiod gRPC port', grpcAccepting);
  agent = new FakeAgent(tmpSock('xds'));
  const cfg = ztunnelConfig.parse({
    XDS_ADDRESS: `127.0.0.1:${grpcPort}`, CA_ADDRESS: `127.0.0.1:${grpcPort}`,
    ROOT_CERT: path.join(tmp, 'root-cert.pem'), TOKEN_FILE: path.join(tmp, 'token'), NODE_NAME: NODE,
    POD_NAME: 'ztunnel-1', INPOD_UDS: agent.path,
    ADMIN_ADDR: '127.0.0.1', ADMIN_PORT: '0', STATS_ADDR: '127.0.0.1', STATS_PORT: '0', READINESS_ADDR: '127.0.0.1', READINESS_PORT: '0',
  });
  zt = ztunnelFromConfig(cfg, createLogger({ component: 'ztunnel', level: 'silent' }));
  await zt.app.start();
}, 60_000);

afterAll(async () => {
  await zt?.stop().catch(() => undefined);
  agent?.close();
  istiod?.kill('SIGKILL');
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('ztunnel against the bundled istiod', () => {
  it('syncs workloads, services and policies and fetches a certificate for a pod on its node', async () => {
    const d = await until('xDS state and certificate in /config_dump', async () => {
      const x = await dump();
      const cert = x.certificates?.find((c) => c.identity === POD_IDENTITY);
      return cert?.state === 'Available' && x.policies?.some((p) => p.name === 'deny-9090') ? x : undefined;
    });
    expect(d.workloads?.map((w) => w.name).sort()).toEqual(['web-1', 'web-2']);
    expect(d.services?.map((s) => s.hostname)).toContain('web.ns1.svc.cluster.local');
    expect(d.certificates?.find((c) => c.identity === POD_IDENTITY)?.certChain.length).toBeGreaterThan(0);
    // Only pods on this ztunnel's node get certificates.
    expect(d.certificates?.map((c) => c.identity)).toEqual([POD_IDENTITY]);
    expect(await until('readiness', async () => ((await readyStatus()) === 200 ? 200 : undefined))).toBe(200);
  });

  it('stays ready on its last state when istiod is killed, and resyncs after restart', async () => {
    istiod!.kill('SIGKILL');
    await new Promise((r) => istiod!.once('exit', r));
    await until('xDS disconnect noticed', async () => ((await zt!.app.registry.metrics()).includes('istio_xds_connection 0') ? true : undefined));
    expect(await readyStatus()).toBe(200);
    const stale = await dump();
    expect(stale.workloads?.length).toBe(2);
    expect(stale.services?.some((s) => s.name === 'web')).toBe(true);
    // A change made while istiod is down arrives after the restart.
    fs.writeFileSync(path.join(tmp, 'config', 'db.yaml'),
      'apiVersion: v1\nkind: Service\nmetadata: {name: db, namespace: ns1}\nspec: {clusterIP: 10.96.1.2, selector: {app: db}, ports: [{port: 5432}]}\n');
    istiod = startIstiod();
    await until('resync with the restarted istiod', async () =>
      ((await dump()).services?.some((s) => s.name === 'db') ? true : undefined), 30_000);
    expect(await readyStatus()).toBe(200);
    expect((await dump()).workloads?.length).toBe(2);
  }, 45_000);
});
