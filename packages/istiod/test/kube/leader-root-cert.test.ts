// Leader election over a coordination.k8s.io/v1 Lease and the istio-ca-root-cert publisher, against a REAL
// kube-apiserver (tools/kube/apiserver.mjs). Short lease timings keep the takeover tests fast.
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RootCertPublisher, ROOT_CERT_CONFIGMAP, ROOT_CERT_KEY } from '../../src/ca';
import { ConfigStore, KubernetesSource, WATCHED_RESOURCES } from '../../src/config';
import { KubeRest, LeaderElector, leasePath } from '../../src/leader';
import { captureLogger } from '../../src/testing/log-capture';
import { kube, kubeOk, loadHelper, skipReason, waitFor, type KubeCluster } from './harness';

const SUITE_TIMEOUT_MS = 120_000;
const reason = await skipReason();
if (reason) console.warn(`[leader-root-cert.test] SKIPPED: ${reason}`);

const TIMING = { leaseDurationMs: 2_000, renewDeadlineMs: 1_500, retryPeriodMs: 200 };

describe.skipIf(reason !== undefined)('leader election and root-cert ConfigMaps against a real kube-apiserver', () => {
  let cluster: KubeCluster;
  let rest: KubeRest;
  let kc: KubeConfig;

  beforeAll(async () => {
    cluster = await (await loadHelper()).startApiServer();
    kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    rest = new KubeRest(kc);
    await kubeOk(cluster, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istio-system' } });
  }, SUITE_TIMEOUT_MS);

  afterAll(async () => {
    await cluster?.stop();
  }, SUITE_TIMEOUT_MS);

  function elector(identity: string, name: string, events: string[]): LeaderElector {
    return new LeaderElector({
      rest, namespace: 'istio-system', name, identity, ...TIMING, logger: captureLogger().logger,
      onStartedLeading: () => events.push(`${identity}:start`),
      onStoppedLeading: () => events.push(`${identity}:stop`),
    });
  }

  it('exactly one of two electors leads; after it releases, the other takes over within the lease timing', async () => {
    const events: string[] = [];
    const a = elector('istiod-a', 'istio-namespace-controller-election', events);
    const b = elector('istiod-b', 'istio-namespace-controller-election', events);
    a.start();
    b.start();
    try {
      const first = await waitFor('a leader', () => (a.isLeader() || b.isLeader() ? (a.isLeader() ? a : b) : undefined), 10_000);
      const second = first === a ? b : a;
      // Several retry periods later the other is still a follower: the holder renews.
      await new Promise((r) => setTimeout(r, 1_000));
      expect([a.isLeader(), b.isLeader()].filter(Boolean)).toHaveLength(1);
      const lease = await kubeOk(cluster, 'GET', leasePath('istio-system', 'istio-namespace-controller-election'));
      const spec = lease['spec'] as { holderIdentity: string; leaseDurationSeconds: number };
      expect(spec.holderIdentity).toBe(first === a ? 'istiod-a' : 'istiod-b');
      expect(spec.leaseDurationSeconds).toBe(2);

      const releasedAt = Date.now();
      await first.stop();
      expect(first.isLeader()).toBe(false);
      await waitFor('takeover', () => (second.isLeader() ? true : undefined), 5_000);
      // Release empties the holder, so the standby need not wait out the 2 s lease.
      expect(Date.now() - releasedAt).toBeLessThan(TIMING.leaseDurationMs);
      const after = await kubeOk(cluster, 'GET', leasePath('istio-system', 'istio-namespace-controller-election'));
      expect((after['spec'] as { holderIdentity: string; leaseTransitions: number }).holderIdentity).toBe(second === a ? 'istiod-a' : 'istiod-b');
      expect((after['spec'] as { leaseTransitions: number }).leaseTransitions).toBeGreaterThanOrEqual(1);
    } finally {
      await a.stop();
      await b.stop();
    }
    expect(events.filter((e) => e.endsWith(':start'))).toHaveLength(2);
  }, 30_000);

  it('a leader that cannot renew (API server down) stops leading; a standby takes an expired lease', async () => {
    const events: string[] = [];
    const a = elector('istiod-a', 'istio-gateway-status-leader', events);
    a.start();
    await waitFor('a leads', () => (a.isLeader() ? true : undefined), 10_000);
    await cluster.pauseApiServer();
    try {
      await waitFor('a steps down', () => (a.isLeader() ? undefined : true), 5_000);
      expect(events).toEqual(['istiod-a:start', 'istiod-a:stop']);
    } finally {
      await cluster.resumeApiServer();
    }
    // a keeps campaigning and, with nobody else, leads again; a foreign holder blocks b until it expires.
    await waitFor('a leads again', () => (a.isLeader() ? true : undefined), 10_000);
    const b = elector('istiod-b', 'istio-gateway-status-leader', events);
    b.start();
    await new Promise((r) => setTimeout(r, 1_000));
    expect(b.isLeader()).toBe(false);
    // Stop a WITHOUT releasing (a crash): b must wait out the lease, observed on its own clock.
    (a as unknown as { stopped: boolean }).stopped = true;
    const crashedAt = Date.now();
    await waitFor('b takes the expired lease', () => (b.isLeader() ? true : undefined), 10_000);
    expect(Date.now() - crashedAt).toBeGreaterThanOrEqual(TIMING.leaseDurationMs - 1_000);
    await b.stop();
  }, 60_000);

  it('publishes istio-ca-root-cert in every namespace, re-creates it when deleted, rewrites edits and root changes', async () => {
    for (const name of ['rc-a', 'kube-public-like']) {
      await kubeOk(cluster, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    }
    const store = new ConfigStore({ logger: captureLogger().logger });
    const source = new KubernetesSource({
      kubeConfig: kc, store, logger: captureLogger().logger, backoffInitialMs: 200, backoffMaxMs: 1_000,
      resources: WATCHED_RESOURCES.filter((r) => r.key === 'Namespace' || r.key === 'ConfigMap'),
    });
    let root = '-----BEGIN CERTIFICATE-----\nROOT-1\n-----END CERTIFICATE-----\n';
    const publisher = new RootCertPublisher({ rest, store, rootCertPem: () => root, minIntervalMs: 0, logger: captureLogger().logger, ignoredNamespaces: ['kube-public-like'] });
    source.start();
    try {
      await source.waitForSync();
      publisher.start();
      const cmOf = async (ns: string): Promise<string | undefined> => {
        const r = await kube(cluster, 'GET', `/api/v1/namespaces/${ns}/configmaps/${ROOT_CERT_CONFIGMAP}`);
        return r.status === 200 ? ((r.body['data'] as Record<string, string>)[ROOT_CERT_KEY]) : undefined;
      };
      for (const ns of ['default', 'rc-a', 'istio-system']) {
        await waitFor(`ConfigMap in ${ns}`, async () => ((await cmOf(ns)) === root ? true : undefined), 10_000);
      }
      expect(await cmOf('kube-public-like')).toBeUndefined();

      await kubeOk(cluster, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'rc-new' } });
      await waitFor('ConfigMap in a new namespace', async () => ((await cmOf('rc-new')) === root ? true : undefined), 10_000);

      await kubeOk(cluster, 'DELETE', `/api/v1/namespaces/rc-a/configmaps/${ROOT_CERT_CONFIGMAP}`);
      await waitFor('re-created after delete', async () => ((await cmOf('rc-a')) === root ? true : undefined), 10_000);

      await kubeOk(cluster, 'PATCH', `/api/v1/namespaces/rc-a/configmaps/${ROOT_CERT_CONFIGMAP}`, { data: { [ROOT_CERT_KEY]: 'tampered' } }, 'application/merge-patch+json');
      await waitFor('edit reverted', async () => ((await cmOf('rc-a')) === root ? true : undefined), 10_000);

      root = '-----BEGIN CERTIFICATE-----\nROOT-2\n-----END CERTIFICATE-----\n';
      publisher.rootChanged();
      for (const ns of ['default', 'rc-a', 'rc-new']) {
        await waitFor(`new root in ${ns}`, async () => ((await cmOf(ns)) === root ? true : undefined), 10_000);
      }

      // Not leading any more: a deleted ConfigMap stays deleted.
      publisher.stop();
      await kubeOk(cluster, 'DELETE', `/api/v1/namespaces/rc-new/configmaps/${ROOT_CERT_CONFIGMAP}`);
      await new Promise((r) => setTimeout(r, 1_000));
      expect(await cmOf('rc-new')).toBeUndefined();
    } finally {
      publisher.stop();
      await source.stop();
    }
  }, 60_000);
});
