// `meshctl waypoint apply|list|delete --kubeconfig` against a REAL kube-apiserver (tools/kube, built by
// scripts/test.sh): the Gateway istioctl would write, the namespace label, --wait on Programmed, list and delete.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS, runCli, type CliIo } from '../cli';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const HELPER = join(repoRoot, 'tools/kube/apiserver.mjs');

interface Cluster { kubeconfigPath: string; stop(): Promise<void> }
interface Helper { apiServerBinary(): string | undefined; startApiServer(): Promise<Cluster> }
const helper = existsSync(HELPER) ? ((await import(pathToFileURL(HELPER).href)) as Helper) : undefined;
const skip = helper?.apiServerBinary() === undefined;
if (skip) console.warn('[kube waypoints] SKIPPED: kube-apiserver is not built (tools/kube/build-apiserver.sh)');

function io(): CliIo & { out: string; err: string } {
  const o = { out: '', err: '' } as CliIo & { out: string; err: string };
  o.stdout = (t) => (o.out += t);
  o.stderr = (t) => (o.err += t);
  o.readStdin = () => '';
  o.cwd = process.cwd();
  return o;
}

const GATEWAY_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition',
  metadata: { name: 'gateways.gateway.networking.k8s.io', annotations: { 'api-approved.kubernetes.io': 'https://github.com/kubernetes-sigs/gateway-api/pull/891' } },
  spec: {
    group: 'gateway.networking.k8s.io', scope: 'Namespaced',
    names: { kind: 'Gateway', plural: 'gateways', singular: 'gateway', listKind: 'GatewayList' },
    versions: [{ name: 'v1', served: true, storage: true, subresources: { status: {} }, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
  },
};

describe.skipIf(skip)('meshctl waypoint against a real kube-apiserver', () => {
  let cluster: Cluster;
  let kc: string;
  const cli = async (...argv: string[]) => {
    const x = io();
    const code = await runCli(COMMANDS, [...argv, '--kubeconfig', kc], x);
    return { code, ...x };
  };
  const kubectl = async (method: string, path: string, body?: unknown, contentType?: string) => {
    const { KubeClient } = await import('./client');
    return KubeClient.load({ kubeconfig: kc }).ok(method, path, body, contentType);
  };

  beforeAll(async () => {
    cluster = await helper!.startApiServer();
    kc = cluster.kubeconfigPath;
    await kubectl('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  it('says the Gateway API CRDs are missing instead of failing obscurely', async () => {
    const r = await cli('waypoint', 'apply', '-n', 'shop');
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('Gateway API CRDs are not installed');
  });

  it('apply writes the waypoint Gateway and labels the namespace; a second apply is unchanged', async () => {
    await kubectl('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', GATEWAY_CRD);
    let r = { code: -1, out: '', err: '' };
    for (let i = 0; i < 50 && r.code !== 0; i++) {
      r = await cli('waypoint', 'apply', '-n', 'shop', '--enroll-namespace');
      if (r.code !== 0) await new Promise((res) => setTimeout(res, 200)); // CRD becoming Established
    }
    expect(r.err).toBe('');
    expect(r.out).toContain('waypoint shop/waypoint applied (created)');
    expect(r.out).toContain('namespace shop labeled with "istio.io/use-waypoint: waypoint"');
    const gw = await kubectl('GET', '/apis/gateway.networking.k8s.io/v1/namespaces/shop/gateways/waypoint');
    expect(gw['spec']).toEqual({ gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] });
    expect((gw['metadata'] as { labels: Record<string, string> }).labels['istio.io/waypoint-for']).toBe('service');
    const ns = await kubectl('GET', '/api/v1/namespaces/shop');
    expect((ns['metadata'] as { labels: Record<string, string> }).labels['istio.io/use-waypoint']).toBe('waypoint');
    expect((await cli('waypoint', 'apply', '-n', 'shop')).out).toContain('(unchanged)');
    expect((await cli('waypoint', 'apply', '-n', 'shop', '--for', 'all')).out).toContain('(configured)');
  }, 30_000);

  it('apply --wait returns once istiod marks the Gateway Programmed', async () => {
    const waiting = cli('waypoint', 'apply', '-n', 'shop', '--name', 'wp2', '--wait');
    await new Promise((res) => setTimeout(res, 1_000));
    await kubectl('PATCH', '/apis/gateway.networking.k8s.io/v1/namespaces/shop/gateways/wp2/status',
      { status: { conditions: [{ type: 'Programmed', status: 'True', reason: 'Programmed', message: 'ok', lastTransitionTime: '2026-01-01T00:00:00Z' }] } }, 'application/merge-patch+json');
    const r = await waiting;
    expect(r.code).toBe(0);
    expect(r.out).toContain('waypoint shop/wp2 is ready');
  }, 30_000);

  it('list shows waypoints with their Programmed condition; delete removes them and reports unknown names', async () => {
    const l = await cli('waypoint', 'list', '-A');
    expect(l.out).toMatch(/shop\s+waypoint\s+all\s+Unknown/);
    expect(l.out).toMatch(/shop\s+wp2\s+service\s+True/);
    const d = await cli('waypoint', 'delete', '-n', 'shop', 'wp2', 'nope');
    expect(d.out).toContain('waypoint shop/wp2 deleted');
    expect(d.code).not.toBe(0);
    expect(d.err).toContain('not found: shop/nope');
    expect((await cli('waypoint', 'list', '-n', 'shop')).out).not.toContain('wp2');
  }, 30_000);
});
