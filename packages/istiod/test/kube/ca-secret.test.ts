// istio-ca-secret against a REAL kube-apiserver: replicas that start together end with ONE self-signed root.
// The API server accepts one create; the other replica gets 409 AlreadyExists and adopts the winner's root.
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CA_SECRET_NAME, kubernetesCaSecretStore, loadOrCreateSelfSignedCa, type CaSecretStore } from '../../src/ca';
import { kubeOk, loadHelper, skipReason, type KubeCluster } from './harness';

const SUITE_TIMEOUT_MS = 120_000;
const reason = await skipReason();
if (reason) console.warn(`[ca-secret.test] SKIPPED: ${reason}`);

describe.skipIf(reason !== undefined)('istio-ca-secret creation against a real kube-apiserver', () => {
  let cluster: KubeCluster;
  const replica = (): KubeConfig => {
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    return kc;
  };
  const secretRoot = async (ns: string): Promise<string> => {
    const secret = await kubeOk(cluster, 'GET', `/api/v1/namespaces/${ns}/secrets/${CA_SECRET_NAME}`);
    return Buffer.from((secret['data'] as Record<string, string>)['ca-cert.pem'] ?? '', 'base64').toString('utf8');
  };

  beforeAll(async () => {
    cluster = await (await loadHelper()).startApiServer();
    for (const name of ['ca-race', 'ca-conflict']) await kubeOk(cluster, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }, SUITE_TIMEOUT_MS);

  afterAll(async () => {
    await cluster?.stop();
  }, SUITE_TIMEOUT_MS);

  it('three replicas starting at once all serve the one root stored in the Secret', async () => {
    const cas = await Promise.all([1, 2, 3].map(() => loadOrCreateSelfSignedCa({ store: kubernetesCaSecretStore(replica(), 'ca-race'), trustDomain: 'cluster.local' })));
    const stored = await secretRoot('ca-race');
    for (const ca of cas) expect(ca.rootCertPem).toBe(stored);
  }, 30_000);

  it('a replica whose read missed the winner gets 409 on create and adopts the winner', async () => {
    const winner = await loadOrCreateSelfSignedCa({ store: kubernetesCaSecretStore(replica(), 'ca-conflict'), trustDomain: 'cluster.local' });
    const real = kubernetesCaSecretStore(replica(), 'ca-conflict');
    // load() says "no root yet" as it did for a replica that read just before the winner's create landed.
    const late: CaSecretStore = { ...real, load: async () => undefined };
    const loser = await loadOrCreateSelfSignedCa({ store: late, trustDomain: 'cluster.local' });
    expect(loser.rootCertPem).toBe(winner.rootCertPem);
    expect(loser.caKeyPem).toBe(winner.caKeyPem);
    expect(await secretRoot('ca-conflict')).toBe(winner.rootCertPem);
  }, 30_000);
});
