// The bundled istiod as a real process: TLS + token auth for xDS and CA, ops endpoints, kill -9 and resync.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { credentials } from '@grpc/grpc-js';
import { ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL } from '@mesh/api';
import { createCaClient, makeIdentity } from '@mesh/identity';
import { DeltaXdsClient } from '@mesh/xds-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = resolve(pkgDir, '../..');
const bundle = join(pkgDir, 'dist', 'istiod.mjs');
const SERVER_NAME = 'istiod.istio-system.svc';

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let dir: string;
let env: Record<string, string>;
let ports: { grpc: number; mon: number; ready: number };
let proc: ChildProcess | undefined;
let stderr = '';

function startIstiod(): ChildProcess {
  const p = spawn(process.execPath, [bundle], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  p.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  return p;
}

async function ready(): Promise<void> {
  await waitFor('/ready', async () => ((await fetch(`http://127.0.0.1:${ports.ready}/ready`)).status === 200 ? true : undefined));
}

beforeAll(async () => {
  execFileSync(process.execPath, [join(repoRoot, 'tools/bundle.mjs'), 'istiod'], { cwd: repoRoot, stdio: 'pipe' });
  dir = mkdtempSync(join(tmpdir(), 'istiod-proc-'));
  mkdirSync(join(dir, 'config'));
  writeFileSync(join(dir, 'tokens.yaml'), '- {token: zt1, namespace: istio-system, serviceAccount: ztunnel, podName: ztunnel-1, nodeName: node-1}\n');
  writeFileSync(
    join(dir, 'config', 'pods.yaml'),
    'apiVersion: v1\nkind: Pod\nmetadata: {name: app-1, namespace: default}\nspec: {nodeName: node-1, serviceAccountName: app, containers: [{name: a, image: x}]}\nstatus: {phase: Running, podIP: 10.0.0.5}\n---\nkind: Bogus\n',
  );
  ports = { grpc: await freePort(), mon: await freePort(), ready: await freePort() };
  env = {
    CONFIG_SOURCE: `dir:${join(dir, 'config')}`,
    AUTH_TOKENS_FILE: join(dir, 'tokens.yaml'),
    CA_STATE_DIR: join(dir, 'ca'),
    CACERTS_DIR: join(dir, 'no-cacerts'),
    ROOT_CERT_OUTPUT: join(dir, 'out', 'root-cert.pem'),
    BIND_ADDRESS: '127.0.0.1',
    GRPC_PORT: String(ports.grpc),
    MONITORING_PORT: String(ports.mon),
    READINESS_PORT: String(ports.ready),
    PILOT_DEBOUNCE_AFTER: '10ms',
    LOG_LEVEL: 'warn',
  };
  proc = startIstiod();
  await ready();
}, 60_000);

afterAll(() => {
  proc?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('istiod process', () => {
  it('prints --help and exits 0', () => {
    const out = execFileSync(process.execPath, [bundle, '--help']).toString();
    expect(out).toContain('CA_TRUSTED_NODE_ACCOUNTS');
    expect(out).toContain('GRPC_PORT  int, default "15012"');
  });

  it('issues certificates over TLS to a token-authenticated ztunnel and serves ops endpoints', async () => {
    const root = readFileSync(join(dir, 'out', 'root-cert.pem'), 'utf8');
    const ca = createCaClient({ address: `127.0.0.1:${ports.grpc}`, rootCertPem: root, serverName: SERVER_NAME, token: 'zt1', clusterId: 'Kubernetes' });
    try {
      const got = await ca.fetchCertificate(makeIdentity('cluster.local', 'default', 'app'));
      expect(new X509Certificate(got.certChainPem[0] as string).verify(new X509Certificate(root).publicKey)).toBe(true);
    } finally {
      ca.close();
    }
    const metrics = await (await fetch(`http://127.0.0.1:${ports.mon}/metrics`)).text();
    expect(metrics).toMatch(/citadel_server_success_cert_issuance_count 1/);
    expect(metrics).toContain('pilot_xds_pushes');
    const configz = (await (await fetch(`http://127.0.0.1:${ports.mon}/debug/configz`)).json()) as { objects: { metadata: { name: string } }[]; invalid: unknown[] };
    expect(configz.objects.map((o) => o.metadata.name)).toContain('app-1');
    expect(configz.invalid.length).toBeGreaterThan(0); // the Bogus document is reported, not fatal
  });

  it('serves delta xDS to a token client, and the client resyncs after istiod is killed -9 and restarted', async () => {
    const root = readFileSync(join(dir, 'out', 'root-cert.pem'), 'utf8');
    const names = new Set<string>();
    const handler = (typeUrl: string) => ({
      typeUrl,
      decode: (a: unknown) => a,
      apply: (updates: readonly { name: string }[], removed: readonly string[]) => {
        for (const u of updates) names.add(u.name);
        for (const r of removed) names.delete(r);
      },
    });
    const client = new DeltaXdsClient({
      address: `127.0.0.1:${ports.grpc}`,
      credentials: credentials.createSsl(Buffer.from(root)),
      channelOptions: { 'grpc.ssl_target_name_override': SERVER_NAME, 'grpc.default_authority': SERVER_NAME },
      metadata: { authorization: 'Bearer zt1', clusterid: 'Kubernetes' },
      node: { id: 'ztunnel~10.0.0.9~ztunnel-1.istio-system~istio-system.svc.cluster.local', metadata: {} },
      types: [handler(ADDRESS_TYPE_URL), handler(AUTHORIZATION_TYPE_URL)],
      initialBackoffMs: 100,
      maxBackoffMs: 500,
    });
    let syncs = 0;
    client.on('synced', () => syncs++);
    client.start();
    try {
      await waitFor('first sync', async () => (syncs >= 1 ? true : undefined));
      // The ambient index turned the Pod manifest into a WDS workload named by its uid.
      expect([...names].some((n) => n.includes('Pod/default/app-1'))).toBe(true);
      const adsz = (await (await fetch(`http://127.0.0.1:${ports.mon}/debug/adsz`)).json()) as { totalClients: number; clients: { identity: string }[] };
      expect(adsz.totalClients).toBe(1);
      expect(adsz.clients[0]?.identity).toBe('spiffe://cluster.local/ns/istio-system/sa/ztunnel');

      proc?.kill('SIGKILL');
      await new Promise((r) => proc?.once('exit', r));
      proc = startIstiod();
      await ready();
      await waitFor('resync after restart', async () => (syncs >= 2 ? true : undefined));
      expect([...names].some((n) => n.includes('Pod/default/app-1'))).toBe(true);
      expect(client.resourceVersions(ADDRESS_TYPE_URL).size).toBeGreaterThan(0);
      // Same persisted root after the restart, so the client's trust still holds.
      expect(readFileSync(join(dir, 'out', 'root-cert.pem'), 'utf8')).toBe(root);
    } finally {
      client.close();
    }
  }, 30_000);

  it('stops gracefully on SIGTERM', async () => {
    const p = proc as ChildProcess;
    p.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
    expect(code).toBe(0);
    proc = undefined;
    expect(stderr).not.toContain('"level":60');
  });
});
