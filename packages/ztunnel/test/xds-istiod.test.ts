// xDS + CA round trip against the real, bundled istiod process (spawned, not imported: apps never import
// each other). istiod reads a directory of manifests; ztunnel (in-process, built exactly as main.ts builds
// it) connects with a token from istiod's tokens file, syncs workloads/services/policies, fetches a
// certificate for a pod on its node, and survives a kill -9 + restart of istiod with its last state.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@mesh/core';
import { ztunnelConfig, ztunnelFromConfig, type ConfiguredZtunnel } from '../src/app/index';
import { FakeAgent, PREFIX, tmpSock } from './fixtures';
import { bundle, freePort, IstiodProcess, podManifest, until } from './processes';

const NODE = 'node-1';
const POD_IDENTITY = 'spiffe://cluster.local/ns/ns1/sa/web-sa';

let tmp: string;
let istiod: IstiodProcess | undefined;
let zt: ConfiguredZtunnel | undefined;
let agent: FakeAgent | undefined;

const manifests = `apiVersion: v1
kind: Namespace
metadata: {name: ns1, labels: {istio.io/dataplane-mode: ambient}}
---
${podManifest({ name: 'web-1', namespace: 'ns1', sa: 'web-sa', ip: '10.1.0.5', node: NODE, app: 'web' })}
---
${podManifest({ name: 'web-2', namespace: 'ns1', sa: 'web-sa', ip: '10.1.0.6', node: 'node-2', app: 'web' })}
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
  bundle('istiod');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), `${PREFIX}-xds-`));
  IstiodProcess.prepare(tmp, manifests, [{ token: 'zt-token', nodeName: NODE }]);
  fs.writeFileSync(path.join(tmp, 'token'), 'zt-token\n');
  istiod = new IstiodProcess(tmp, await freePort());
  await istiod.start();
  agent = new FakeAgent(tmpSock('xds'));
  const cfg = ztunnelConfig.parse({
    XDS_ADDRESS: `127.0.0.1:${istiod.grpcPort}`, CA_ADDRESS: `127.0.0.1:${istiod.grpcPort}`,
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
  await istiod?.kill();
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
    await istiod!.kill();
    await until('xDS disconnect noticed', async () => ((await zt!.app.registry.metrics()).includes('istio_xds_connection 0') ? true : undefined));
    expect(await readyStatus()).toBe(200);
    const stale = await dump();
    expect(stale.workloads?.length).toBe(2);
    expect(stale.services?.some((s) => s.name === 'web')).toBe(true);
    // A change made while istiod is down arrives after the restart.
    fs.writeFileSync(path.join(tmp, 'config', 'db.yaml'),
      'apiVersion: v1\nkind: Service\nmetadata: {name: db, namespace: ns1}\nspec: {clusterIP: 10.96.1.2, selector: {app: db}, ports: [{port: 5432}]}\n');
    await istiod!.start();
    await until('resync with the restarted istiod', async () =>
      ((await dump()).services?.some((s) => s.name === 'db') ? true : undefined), 30_000);
    expect(await readyStatus()).toBe(200);
    expect((await dump()).workloads?.length).toBe(2);
  }, 45_000);
});
