// The istiod app in CONFIG_SOURCE=kubernetes against a REAL kube-apiserver: ready after sync, the
// istio-ca-root-cert ConfigMap appears in a namespace created afterwards (leader-only writer), and a Pod
// created through the API is served over delta xDS.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL } from '@mesh/api';
import { CertificateAuthority, createCaClient, makeIdentity } from '@mesh/identity';
import { DeltaXdsClient } from '@mesh/xds-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { istiodConfig, startIstiod, type RunningIstiod } from '../../src/app';
import { ROOT_CERT_CONFIGMAP, ROOT_CERT_KEY } from '../../src/ca';
import { captureLogger } from '../../src/testing/log-capture';
import { gatewayCrds, installCrds, istioCrds, kube, kubeOk, loadHelper, skipReason, waitFor, type KubeCluster } from './harness';

const SUITE_TIMEOUT_MS = 120_000;
const SERVER_NAME = 'istiod.istio-system.svc';
const reason = await skipReason();
if (reason) console.warn(`[istiod-kube-mode.test] SKIPPED: ${reason}`);

describe.skipIf(reason !== undefined)('istiod in Kubernetes mode against a real kube-apiserver', () => {
  let cluster: KubeCluster;
  let istiod: RunningIstiod;
  let dir: string;
  const prevKubeconfig = process.env['KUBECONFIG'];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'istiod-kube-mode-'));
    cluster = await (await loadHelper()).startApiServer();
    await installCrds(cluster, [...istioCrds(), ...gatewayCrds()]);
    await kubeOk(cluster, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istio-system' } });
    writeFileSync(join(dir, 'tokens.yaml'), '- {token: zt1, namespace: istio-system, serviceAccount: ztunnel, podName: ztunnel-1, nodeName: node-1}\n');
    process.env['KUBECONFIG'] = cluster.kubeconfigPath;
    const config = istiodConfig.parse({
      CONFIG_SOURCE: 'kubernetes', BIND_ADDRESS: '127.0.0.1', GRPC_PORT: '0', MONITORING_PORT: '0', READINESS_PORT: '0',
      CACERTS_DIR: join(dir, 'no-cacerts'), AUTH_TOKENS_FILE: join(dir, 'tokens.yaml'), POD_NAME: 'istiod-test',
      LEADER_LEASE_DURATION: '2s', LEADER_RENEW_DEADLINE: '1500ms', LEADER_RETRY_PERIOD: '200ms', PILOT_DEBOUNCE_AFTER: '10ms', CA_RELOAD_INTERVAL: '200ms',
      // API level 1.20 serves EndpointSlice only as v1beta1, and the harness installs no route CRDs.
      KUBE_IGNORED_RESOURCES: 'endpointslices,httproutes,grpcroutes,referencegrants', PROCESS_METRICS: 'false',
    });
    istiod = await startIstiod({ config, logger: captureLogger().logger });
  }, SUITE_TIMEOUT_MS);

  afterAll(async () => {
    await istiod?.stop();
    await cluster?.stop();
    if (prevKubeconfig === undefined) delete process.env['KUBECONFIG'];
    else process.env['KUBECONFIG'] = prevKubeconfig;
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, SUITE_TIMEOUT_MS);

  it('is ready, creates istio-ca-secret, and publishes the root in a namespace created later', async () => {
    expect((await fetch(new URL('/ready', istiod.readinessUrl))).status).toBe(200);
    expect((await kube(cluster, 'GET', '/api/v1/namespaces/istio-system/secrets/istio-ca-secret')).status).toBe(200);
    await kubeOk(cluster, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'km-app' } });
    const data = await waitFor('root ConfigMap in km-app', async () => {
      const r = await kube(cluster, 'GET', `/api/v1/namespaces/km-app/configmaps/${ROOT_CERT_CONFIGMAP}`);
      return r.status === 200 ? (r.body['data'] as Record<string, string>) : undefined;
    }, 15_000);
    expect(data[ROOT_CERT_KEY]).toBe(istiod.ca.rootCertPem);
    const lease = await kubeOk(cluster, 'GET', '/apis/coordination.k8s.io/v1/namespaces/istio-system/leases/istio-namespace-controller-election');
    expect((lease['spec'] as { holderIdentity: string }).holderIdentity).toBe('istiod-test');
  }, 30_000);

  it('serves a Pod created through the API over delta xDS', async () => {
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
      address: `127.0.0.1:${istiod.grpcPort}`,
      credentials: credentials.createSsl(Buffer.from(istiod.ca.rootCertPem)),
      channelOptions: { 'grpc.ssl_target_name_override': SERVER_NAME, 'grpc.default_authority': SERVER_NAME },
      metadata: { authorization: 'Bearer zt1', clusterid: 'Kubernetes' },
      node: { id: 'ztunnel~10.0.0.9~ztunnel-1.istio-system~istio-system.svc.cluster.local', metadata: {} },
      types: [handler(ADDRESS_TYPE_URL), handler(AUTHORIZATION_TYPE_URL)],
      initialBackoffMs: 100,
      maxBackoffMs: 500,
    });
    client.start();
    try {
      const ns = await kube(cluster, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'km-app' } });
      expect([201, 409]).toContain(ns.status);
      await kubeOk(cluster, 'POST', '/api/v1/namespaces/km-app/pods', {
        apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'km-app', labels: { app: 'web' } },
        spec: { nodeName: 'node-1', serviceAccountName: 'web', containers: [{ name: 'web', image: 'x' }] },
      });
      await kubeOk(cluster, 'PATCH', '/api/v1/namespaces/km-app/pods/web-1/status', { status: { phase: 'Running', podIP: '10.0.3.7', podIPs: [{ ip: '10.0.3.7' }] } }, 'application/merge-patch+json');
      await waitFor('pod served over xDS', () => ([...names].some((n) => n.includes('Pod/km-app/web-1')) ? true : undefined), 15_000);
    } finally {
      client.close();
    }
  }, 30_000);

  // Runs last: it rotates the root the tests above rely on.
  it('follows a replaced istio-ca-secret: the new root reaches every istio-ca-root-cert ConfigMap and CA answers', async () => {
    const ns = await kube(cluster, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'km-app' } });
    expect([201, 409]).toContain(ns.status);
    const next = CertificateAuthority.selfSigned({ organization: 'rotated root' });
    const b64 = (s: string): string => Buffer.from(s).toString('base64');
    await kubeOk(cluster, 'PATCH', '/api/v1/namespaces/istio-system/secrets/istio-ca-secret', { data: { 'ca-cert.pem': b64(next.caCertPem), 'ca-key.pem': b64(next.caKeyPem) } }, 'application/merge-patch+json');
    await waitFor('the rotated root in km-app and istio-system', async () => {
      const roots = await Promise.all(['km-app', 'istio-system'].map(async (n) => (await kube(cluster, 'GET', `/api/v1/namespaces/${n}/configmaps/${ROOT_CERT_CONFIGMAP}`)).body['data'] as Record<string, string> | undefined));
      return roots.every((d) => d?.[ROOT_CERT_KEY] === next.rootCertPem) ? true : undefined;
    }, 15_000);
    const client = createCaClient({ address: `127.0.0.1:${istiod.grpcPort}`, rootCertPem: next.rootCertPem, serverName: SERVER_NAME, token: 'zt1', clusterId: 'Kubernetes', impersonate: false, callTimeoutMs: 3_000 });
    try {
      // The serving certificate was re-issued by the new root: this handshake trusts only that root.
      const got = await waitFor('a CA answer over TLS verified by the rotated root', () => client.fetchCertificate(makeIdentity('cluster.local', 'istio-system', 'ztunnel')).catch(() => undefined), 10_000);
      expect(got.rootsPem).toBe(next.rootCertPem);
    } finally {
      client.close();
    }
  }, 40_000);
});
