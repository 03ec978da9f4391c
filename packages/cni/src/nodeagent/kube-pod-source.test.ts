import type { KubeConfig } from '@kubernetes/client-node';
import { ANNOTATIONS } from '@mesh/api';
import { createLogger } from '@mesh/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeKubeApi, kubeNamespace, kubePod } from './kube-fake-api.test-helper';
import { KubePodAnnotator, redirectionPatch } from './kube-annotator';
import { KubernetesPodSource } from './kube-pod-source';
import type { NamespaceWatchEvent, PodWatchEvent } from './pod-source';

const NODE = 'node-a';
const logger = createLogger({ component: 'test', level: 'silent' });

let api: FakeKubeApi;
let source: KubernetesPodSource | undefined;
let podEvents: PodWatchEvent[];
let nsEvents: NamespaceWatchEvent[];
let kc: KubeConfig;

beforeEach(() => {
  api = new FakeKubeApi();
  podEvents = [];
  nsEvents = [];
});
afterEach(async () => {
  await source?.stop();
  source = undefined;
  await api.close();
});

async function startSource(): Promise<KubernetesPodSource> {
  kc = await api.listen();
  source = new KubernetesPodSource({ kubeConfig: kc, nodeName: NODE, logger, backoffInitialMs: 20 });
  await source.start({ onPod: (e) => podEvents.push(e), onNamespace: (e) => nsEvents.push(e) });
  await until(() => api.watchCount('pods') === 1 && api.watchCount('namespaces') === 1);
  return source;
}

describe('KubernetesPodSource', () => {
  it('lists only this node pods (field selector) and all namespaces, with no events for the initial state', async () => {
    api.put('namespaces', kubeNamespace('apps', { 'istio.io/dataplane-mode': 'ambient' }));
    api.put('pods', kubePod('mine', NODE, { ns: 'apps' }));
    api.put('pods', kubePod('theirs', 'node-b', { ns: 'apps' }));
    const s = await startSource();
    expect(s.listPods().map((p) => p.metadata.name)).toEqual(['mine']);
    expect(s.getPod('apps', 'mine')).toMatchObject({ kind: 'Pod', apiVersion: 'v1', metadata: { uid: 'uid-apps-mine' } });
    expect(s.getNamespace('apps')?.metadata.labels).toEqual({ 'istio.io/dataplane-mode': 'ambient' });
    expect(podEvents).toEqual([]);
    expect(nsEvents).toEqual([]);
    const podWatch = api.requests.find((r) => r.url.startsWith('/api/v1/pods?') && r.url.includes('watch=true'));
    expect(new URL(podWatch!.url, 'http://x').searchParams.get('fieldSelector')).toBe(`spec.nodeName=${NODE}`);
  });

  it('turns watch events into add, update (with the old object) and delete', async () => {
    await startSource();
    api.put('namespaces', kubeNamespace('apps'));
    api.put('pods', kubePod('p1', NODE, { ns: 'apps' }));
    api.put('pods', kubePod('elsewhere', 'node-b', { ns: 'apps' }));
    api.put('pods', kubePod('p1', NODE, { ns: 'apps', labels: { 'istio.io/dataplane-mode': 'ambient' } }));
    api.remove('pods', kubePod('p1', NODE, { ns: 'apps' }));
    await until(() => podEvents.length === 3);
    expect(nsEvents.map((e) => [e.type, e.namespace.metadata.name])).toEqual([['add', 'apps']]);
    expect(podEvents.map((e) => e.type)).toEqual(['add', 'update', 'delete']);
    expect(podEvents[1]?.pod.metadata.labels).toEqual({ 'istio.io/dataplane-mode': 'ambient' });
    expect(podEvents[1]?.old?.metadata.labels).toEqual({});
    expect(podEvents[2]?.pod.metadata.name).toBe('p1');
    expect(source!.getPod('apps', 'p1')).toBeUndefined();
  });

  it('re-lists after 410 Gone and emits a delete for a pod removed while the watch was stale', async () => {
    api.put('pods', kubePod('p1', NODE));
    api.put('pods', kubePod('p2', NODE));
    await startSource();
    api.remove('pods', kubePod('p1', NODE), false);
    api.put('pods', kubePod('p3', NODE), false);
    api.expireWatches();
    await until(() => podEvents.length === 2);
    expect(podEvents.map((e) => `${e.type}:${e.pod.metadata.name}`).sort()).toEqual(['add:p3', 'delete:p1']);
    expect(source!.listPods().map((p) => p.metadata.name).sort()).toEqual(['p2', 'p3']);
  });

  it('start waits (retrying) until the API server lists successfully', async () => {
    const kubeConfig = await api.listen();
    api.put('pods', kubePod('p1', NODE));
    const realHandlers = api.server.listeners('request');
    let failures = 2;
    api.server.removeAllListeners('request');
    api.server.on('request', (req, res) => {
      if (failures > 0 && req.url?.startsWith('/api/v1/pods')) {
        failures--;
        res.writeHead(503).end('{}');
        return;
      }
      for (const l of realHandlers) (l as (a: typeof req, b: typeof res) => void)(req, res);
    });
    source = new KubernetesPodSource({ kubeConfig, nodeName: NODE, logger, backoffInitialMs: 10 });
    await source.start({ onPod: (e) => podEvents.push(e), onNamespace: (e) => nsEvents.push(e) });
    expect(failures).toBe(0);
    expect(source.listPods()).toHaveLength(1);
  });
});

describe('KubePodAnnotator', () => {
  it('sets and removes the redirection annotation with a merge patch, keeping other annotations', async () => {
    const s = await startSource();
    api.put('pods', kubePod('p1', NODE));
    await until(() => s.getPod('default', 'p1') !== undefined);
    const annotator = new KubePodAnnotator(kc, logger);
    const pod = s.getPod('default', 'p1')!;
    await annotator.setRedirection(pod, 'enabled');
    const patch = api.requests.find((r) => r.method === 'PATCH');
    expect(patch?.contentType).toBe('application/merge-patch+json');
    expect(patch?.url).toBe('/api/v1/namespaces/default/pods/p1');
    await until(() => s.getPod('default', 'p1')?.metadata.annotations?.[ANNOTATIONS.AMBIENT_REDIRECTION] === 'enabled');
    expect(s.getPod('default', 'p1')?.metadata.annotations?.['keep']).toBe('me');
    await annotator.setRedirection(pod, undefined);
    await until(() => s.getPod('default', 'p1')?.metadata.annotations?.[ANNOTATIONS.AMBIENT_REDIRECTION] === undefined);
    expect(s.getPod('default', 'p1')?.metadata.annotations).toEqual({ keep: 'me' });
  });

  it('null in the patch removes the key', () => {
    expect(JSON.parse(redirectionPatch(undefined))).toEqual({ metadata: { annotations: { [ANNOTATIONS.AMBIENT_REDIRECTION]: null } } });
  });

  it('a gone pod (404) is fine; a forbidden patch is a typed error', async () => {
    const kubeConfig = await api.listen();
    const annotator = new KubePodAnnotator(kubeConfig, logger);
    const pod = { ...kubePod('ghost', NODE), metadata: { name: 'ghost', namespace: 'default' } } as never;
    await expect(annotator.setRedirection(pod, 'enabled')).resolves.toBeUndefined();
    api.patchStatus = 403;
    await expect(annotator.setRedirection(pod, 'enabled')).rejects.toMatchObject({ code: 'CNI_POD_ANNOTATE_FAILED' });
  });
});

async function until(cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
