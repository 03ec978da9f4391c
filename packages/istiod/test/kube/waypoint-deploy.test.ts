// WaypointDeployer against a REAL kube-apiserver: a Gateway of class istio-waypoint gets its ServiceAccount,
// Deployment and Service by server-side apply, owned by the Gateway; the Gateway status gets the Service
// hostname once the apiserver assigned a cluster IP; a hand-deleted Deployment comes back on resync; other
// managers' fields (replicas) survive re-apply; Gateways of other classes are left alone.
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigStore, KubernetesSource, WATCHED_RESOURCES } from '../../src/config';
import { KubeRest } from '../../src/leader';
import { INDEXED_KINDS } from '../../src/model';
import { captureLogger } from '../../src/testing/log-capture';
import { WaypointDeployer } from '../../src/waypoint-deploy';
import { gatewayCrds, installCrds, istioCrds, kube, kubeOk, loadHelper, skipReason, waitFor, type KubeCluster } from './harness';

const SUITE_TIMEOUT_MS = 120_000;
const reason = await skipReason();
if (reason) console.warn(`[waypoint-deploy.test] SKIPPED: ${reason}`);

const NS = 'wp-a';
const GW = `/apis/gateway.networking.k8s.io/v1/namespaces/${NS}/gateways`;
const DEPLOY = `/apis/apps/v1/namespaces/${NS}/deployments`;

describe.skipIf(reason !== undefined)('WaypointDeployer against a real kube-apiserver', () => {
  let cluster: KubeCluster;
  let source: KubernetesSource;
  let deployer: WaypointDeployer;

  beforeAll(async () => {
    cluster = await (await loadHelper()).startApiServer();
    await installCrds(cluster, [...istioCrds(), ...gatewayCrds()]);
    await kubeOk(cluster, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    const store = new ConfigStore({ logger: captureLogger().logger });
    source = new KubernetesSource({
      kubeConfig: kc, store, logger: captureLogger().logger, backoffInitialMs: 200, backoffMaxMs: 1_000,
      resources: WATCHED_RESOURCES.filter((r) => INDEXED_KINDS.includes(r.key)),
    });
    deployer = new WaypointDeployer({
      rest: new KubeRest(kc), store, domainSuffix: 'cluster.local', minIntervalMs: 0, resyncIntervalMs: 1_000, logger: captureLogger().logger,
      render: { image: 'mesh/waypoint:test', imagePullPolicy: 'IfNotPresent', istiodAddress: 'istiod.istio-system.svc:15012', clusterId: 'Kubernetes', trustDomain: 'cluster.local', logLevel: 'info' },
    });
    source.start();
    await source.waitForSync();
    deployer.start();
  }, SUITE_TIMEOUT_MS);

  afterAll(async () => {
    deployer?.stop();
    await source?.stop();
    await cluster?.stop();
  }, SUITE_TIMEOUT_MS);

  async function get(path: string): Promise<Record<string, any> | undefined> {
    const r = await kube(cluster, 'GET', path);
    return r.status === 200 ? r.body : undefined;
  }

  it('creates ServiceAccount, Deployment and Service owned by the Gateway, then publishes the hostname address', async () => {
    const gw = await kubeOk(cluster, 'POST', GW, {
      apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'waypoint', namespace: NS },
      spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
    });
    const uid = (gw['metadata'] as { uid: string }).uid;
    const dep = await waitFor('Deployment', () => get(`${DEPLOY}/waypoint`), 10_000);
    expect(dep['metadata'].ownerReferences).toEqual([expect.objectContaining({ kind: 'Gateway', name: 'waypoint', uid })]);
    expect(dep['metadata'].managedFields.map((f: { manager: string }) => f.manager)).toContain('istio.io/gateway-controller');
    expect(dep['spec'].template.spec.containers[0].image).toBe('mesh/waypoint:test');
    expect(dep['spec'].template.metadata.labels['istio.io/dataplane-mode']).toBe('none');
    expect(await get(`/api/v1/namespaces/${NS}/serviceaccounts/waypoint`)).toBeDefined();
    const svc = await waitFor('Service', () => get(`/api/v1/namespaces/${NS}/services/waypoint`), 10_000);
    expect(svc['spec'].clusterIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(svc['spec'].ports.map((p: { name: string; port: number }) => `${p.name}:${p.port}`)).toEqual(['status-port:15021', 'mesh:15008']);
    const addresses = await waitFor('status.addresses', async () => (await get(`${GW}/waypoint`))?.['status']?.addresses, 10_000);
    expect(addresses).toEqual([{ type: 'Hostname', value: `waypoint.${NS}.svc.cluster.local` }]);
  }, 30_000);

  it('re-applies on resync: a deleted Deployment comes back, replicas set by another manager survive', async () => {
    await kubeOk(cluster, 'PATCH', `${DEPLOY}/waypoint`, { spec: { replicas: 3 } }, 'application/merge-patch+json');
    await deployer.idle();
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await get(`${DEPLOY}/waypoint`))?.['spec'].replicas).toBe(3);
    await kubeOk(cluster, 'DELETE', `${DEPLOY}/waypoint`);
    const back = await waitFor('Deployment re-created', () => get(`${DEPLOY}/waypoint`), 10_000);
    expect(back['metadata'].labels['gateway.networking.k8s.io/gateway-name']).toBe('waypoint');
  }, 30_000);

  it('leaves Gateways of other classes alone', async () => {
    await kubeOk(cluster, 'POST', GW, {
      apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'ingress', namespace: NS },
      spec: { gatewayClassName: 'istio', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] },
    });
    await new Promise((r) => setTimeout(r, 1_500));
    await deployer.idle();
    expect(await get(`${DEPLOY}/ingress`)).toBeUndefined();
  }, 30_000);
});
