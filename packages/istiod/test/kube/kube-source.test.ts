// KubernetesSource against a REAL kube-apiserver (v1.20 built from Debian's source package, on etcd): the
// ambient index built from the API server equals the one built from the same YAML by the DirectorySource,
// watch updates and deletes flow, and an API server outage is resynced both by watch replay and by a
// re-list after etcd compaction (410 Gone).
//
// API level 1.20 notes: EndpointSlice is served only as discovery.k8s.io/v1beta1 (istiod watches v1, and the
// ambient index does not read EndpointSlices, so the source here watches only the kinds the index reads);
// there is no scheduler, so pods carry spec.nodeName and their status is written through pods/status; no
// kubelet finishes graceful deletes, so pods are deleted with gracePeriodSeconds=0.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigStore, DirectorySource, KubernetesSource, WATCHED_RESOURCES } from '../../src/config';
import { AmbientIndex, INDEXED_KINDS } from '../../src/model';
import { captureLogger } from '../../src/testing/log-capture';
import {
  createWithStatus, gatewayCrds, installCrds, istioCrds, kube, kubeOk, loadHelper, parseManifests, pathOf, skipReason,
  waitFor, type KubeCluster, type ManifestObject,
} from './harness';

const SUITE_TIMEOUT_MS = 120_000;
const reason = await skipReason();
if (reason) console.warn(`[kube-source.test] SKIPPED: ${reason}`);

const fixture = parseManifests(readFileSync(new URL('./testdata/cluster.yaml', import.meta.url), 'utf8'));
const WEB_UID = 'Kubernetes//Pod/mk-app/web-1';
const CLIENT_UID = 'Kubernetes//Pod/mk-app/client-1';

/** The index's whole output, as ztunnel would receive it. */
function outputOf(index: AmbientIndex): { addresses: Record<string, unknown>; authorizations: Record<string, unknown> } {
  return { addresses: Object.fromEntries(index.addresses()), authorizations: Object.fromEntries(index.authorizations()) };
}

function workloadOf(index: AmbientIndex, uid: string): { services: Record<string, unknown>; canonicalRevision: string } | undefined {
  const addr = index.addresses().get(uid);
  return addr?.type.case === 'workload' ? (addr.type.value as unknown as { services: Record<string, unknown>; canonicalRevision: string }) : undefined;
}

async function listCount(cluster: KubeCluster, resource: string): Promise<number> {
  const text = await metricsText(cluster);
  let n = 0;
  for (const line of text.split('\n')) {
    // JSON only: the API server's own loopback informers (bound-token pod lister) list in protobuf.
    if (line.startsWith('apiserver_request_total{') && line.includes('verb="LIST"') && line.includes(`resource="${resource}"`) && line.includes('contentType="application/json"')) {
      n += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return n;
}

async function metricsText(cluster: KubeCluster): Promise<string> {
  const { request } = await import('node:https');
  return new Promise((res, rej) => {
    const req = request(new URL('/metrics', cluster.url), { ca: cluster.caPem, headers: { authorization: `Bearer ${cluster.token}` } }, (r) => {
      let t = '';
      r.on('data', (c: Buffer) => (t += c.toString()));
      r.on('end', () => res(t));
    });
    req.on('error', rej);
    req.end();
  });
}

describe.skipIf(reason !== undefined)('KubernetesSource against a real kube-apiserver', () => {
  let cluster: KubeCluster;
  let dir: string;
  let source: KubernetesSource;
  let kubeIndex: AmbientIndex;
  let dirIndex: AmbientIndex;
  let dirSource: DirectorySource;
  const sourceLog = captureLogger();

  /** A second API server on the same etcd and PKI: the way to change state while the first one is down. */
  async function withSecondApiServer(fn: (c: KubeCluster) => Promise<void>): Promise<void> {
    const helper = await loadHelper();
    const second = await helper.startApiServer({ dir, etcdUrl: cluster.etcdUrl, pkiDir: cluster.pkiDir, extraArgs: ['--watch-cache=false'] });
    try {
      await fn(second);
    } finally {
      await second.stop();
    }
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'istiod-kube-'));
    const helper = await loadHelper();
    // Without the watch cache, watches are served from etcd's history: a re-watch from an old version replays
    // what was missed, and after compaction it gets 410 Gone, as istiod sees against a busy real cluster.
    cluster = await helper.startApiServer({ dir, extraArgs: ['--watch-cache=false'] });
    await installCrds(cluster, [...istioCrds(), ...gatewayCrds()]);
    // Namespaces and nodes first (pods need their namespace); the server assigns creationTimestamp, which
    // the index reads (service creation time, oldest policy), so the directory copy carries the same one.
    const ordered = [...fixture.filter((o) => o.kind === 'Namespace'), ...fixture.filter((o) => o.kind !== 'Namespace')];
    const dirDocs: ManifestObject[] = [];
    for (const obj of ordered) {
      const stored = await createWithStatus(cluster, obj);
      const created = (stored['metadata'] as { creationTimestamp: string }).creationTimestamp;
      dirDocs.push({ ...obj, metadata: { ...obj.metadata, creationTimestamp: created } });
    }
    // The API server creates the default/kubernetes Service itself; the directory holds it too, as a dump would.
    const builtIn = await kubeOk(cluster, 'GET', '/api/v1/namespaces/default/services/kubernetes');
    const builtInMeta = builtIn['metadata'] as { creationTimestamp: string; labels: Record<string, string> };
    dirDocs.push({
      apiVersion: 'v1', kind: 'Service', spec: builtIn['spec'],
      metadata: { name: 'kubernetes', namespace: 'default', labels: builtInMeta.labels, creationTimestamp: builtInMeta.creationTimestamp },
    });
    writeFileSync(join(dir, 'cluster.yaml'), dirDocs.map((d) => stringify(d)).join('---\n'));

    const dirStore = new ConfigStore({ logger: captureLogger().logger });
    dirIndex = new AmbientIndex();
    dirIndex.attach(dirStore);
    dirSource = new DirectorySource({ dir, store: dirStore, logger: captureLogger().logger, pollIntervalMs: 0 });
    await dirSource.start();

    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    const store = new ConfigStore({ logger: captureLogger().logger });
    kubeIndex = new AmbientIndex();
    kubeIndex.attach(store);
    source = new KubernetesSource({
      kubeConfig: kc, store, logger: sourceLog.logger, backoffInitialMs: 200, backoffMaxMs: 1_000,
      resources: WATCHED_RESOURCES.filter((r) => INDEXED_KINDS.includes(r.key)),
    });
    source.start();
    await waitFor('KubernetesSource synced', () => (source.isSynced() ? true : undefined), 30_000);
  }, SUITE_TIMEOUT_MS);

  afterAll(async () => {
    await source?.stop();
    dirSource?.stop();
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, SUITE_TIMEOUT_MS);

  it('serves EndpointSlice only as discovery.k8s.io/v1beta1 (API level 1.20)', async () => {
    const slice = {
      apiVersion: 'discovery.k8s.io/v1beta1', kind: 'EndpointSlice',
      metadata: { name: 'web-abc', namespace: 'mk-app', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4', ports: [{ name: 'http', port: 8080 }],
      endpoints: [{ addresses: ['10.1.0.5'], conditions: { ready: true }, topology: { 'kubernetes.io/hostname': 'node1' } }],
    };
    await kubeOk(cluster, 'POST', pathOf(slice, false), slice);
    expect((await kube(cluster, 'GET', '/apis/discovery.k8s.io/v1/endpointslices')).status).toBe(404);
  });

  it('builds the same ambient index output as the DirectorySource over the same YAML', async () => {
    const expected = outputOf(dirIndex);
    // Non-trivial: both pods are workloads, the service and both policies are there.
    expect(Object.keys(expected.addresses)).toEqual(expect.arrayContaining([WEB_UID, CLIENT_UID, 'mk-app/web.mk-app.svc.cluster.local', 'default/kubernetes.default.svc.cluster.local']));
    expect(Object.keys(expected.authorizations)).toEqual(expect.arrayContaining(['mk-app/allow-web', 'mk-app/deny-all-ns']));
    // Bounded wait for in-flight watch events; the assertion below shows the diff if they never converge.
    await waitFor('kube index equal to directory index', () => (isDeepStrictEqual(outputOf(kubeIndex), expected) ? true : undefined), 10_000).catch(() => undefined);
    expect(outputOf(kubeIndex)).toEqual(expected);
  }, 20_000);

  it('follows watch updates: a label change moves the workload out of the service, a delete removes it', async () => {
    expect(Object.keys(workloadOf(kubeIndex, WEB_UID)?.services ?? {})).toEqual(['mk-app/web.mk-app.svc.cluster.local']);
    await kubeOk(cluster, 'PATCH', '/api/v1/namespaces/mk-app/pods/web-1', { metadata: { labels: { app: 'web-old', version: 'v3' } } }, 'application/merge-patch+json');
    const moved = await waitFor('web-1 relabelled', () => {
      const w = workloadOf(kubeIndex, WEB_UID);
      return w?.canonicalRevision === 'v3' ? w : undefined;
    });
    expect(Object.keys(moved.services)).toEqual([]);

    await kubeOk(cluster, 'DELETE', '/api/v1/namespaces/mk-app/pods/client-1?gracePeriodSeconds=0');
    await waitFor('client-1 removed', () => (kubeIndex.addresses().has(CLIENT_UID) ? undefined : true));
    expect(kubeIndex.addresses().has(WEB_UID)).toBe(true);
  });

  it('resyncs after an API server outage by replaying the watch from its last resourceVersion', async () => {
    const listsBefore = await listCount(cluster, 'pods');
    await cluster.pauseApiServer();
    await withSecondApiServer(async (other) => {
      await createWithStatus(other, podManifest('late-1', '10.1.0.7'));
      await kubeOk(other, 'DELETE', '/api/v1/namespaces/mk-app/pods/web-1?gracePeriodSeconds=0');
    });
    await cluster.resumeApiServer();
    await waitFor('late-1 added and web-1 removed after the outage', () =>
      kubeIndex.addresses().has('Kubernetes//Pod/mk-app/late-1') && !kubeIndex.addresses().has(WEB_UID) ? true : undefined, 30_000);
    // The counter restarts with the process, so compare against zero LISTs on the resumed server: watch replay.
    expect(listsBefore).toBeGreaterThan(0);
    expect(await listCount(cluster, 'pods')).toBe(0);
  }, SUITE_TIMEOUT_MS);

  it('re-lists on 410 Gone when etcd compacted the history it missed, deleting what vanished', async () => {
    const helper = await loadHelper();
    await cluster.pauseApiServer();
    await withSecondApiServer(async (other) => {
      await kubeOk(other, 'DELETE', '/api/v1/namespaces/mk-app/pods/late-1?gracePeriodSeconds=0');
      await createWithStatus(other, podManifest('late-2', '10.1.0.8'));
    });
    await helper.compactEtcd(cluster.etcdUrl);
    await cluster.resumeApiServer();
    await waitFor('late-2 added and late-1 removed by the re-list', () =>
      kubeIndex.addresses().has('Kubernetes//Pod/mk-app/late-2') && !kubeIndex.addresses().has('Kubernetes//Pod/mk-app/late-1') ? true : undefined, 30_000);
    expect(await listCount(cluster, 'pods')).toBeGreaterThan(0);
    // Watching continues from the new list's version.
    await kubeOk(cluster, 'DELETE', '/api/v1/namespaces/mk-app/pods/late-2?gracePeriodSeconds=0');
    await waitFor('late-2 removed by watch', () => (kubeIndex.addresses().has('Kubernetes//Pod/mk-app/late-2') ? undefined : true));
  }, SUITE_TIMEOUT_MS);
});

function podManifest(name: string, ip: string): ManifestObject {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'mk-app', labels: { app: 'web' } },
    spec: { nodeName: 'node1', serviceAccountName: 'web-sa', containers: [{ name: 'web', image: 'registry.invalid/web:1' }] },
    status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: 'True' }] },
  };
}
