import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { captureLogger } from '../testing/log-capture';
import { WATCHED_RESOURCES } from './kube-resources';
import { KubernetesSource } from './kube-source';
import { ConfigStore } from './store';

/** A tiny API server speaking list/watch JSON for pods only, with knobs to push events and expire watches. */
class FakeApiServer {
  readonly server: Server;
  private rv = 100;
  private readonly pods = new Map<string, Record<string, unknown>>();
  private watchers: ServerResponse[] = [];
  lists = 0;
  watchRvs: string[] = [];
  failNextLists = 0;

  constructor() {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== '/api/v1/pods') {
        res.writeHead(404).end('{}');
        return;
      }
      if (url.searchParams.get('watch') === 'true') {
        this.watchRvs.push(url.searchParams.get('resourceVersion') ?? '');
        res.writeHead(200, { 'content-type': 'application/json' });
        res.flushHeaders();
        this.watchers.push(res);
        return;
      }
      this.lists++;
      if (this.failNextLists > 0) {
        this.failNextLists--;
        res.writeHead(500).end('{}');
        return;
      }
      // List items carry no apiVersion/kind, as on a real API server.
      const items = [...this.pods.values()].map(({ apiVersion: _a, kind: _k, ...rest }) => rest);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: String(this.rv) }, items }));
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Change state; when `notify` is false the change is "missed" by watchers (as during a disconnect). */
  put(name: string, ip: string, notify = true): void {
    const type = this.pods.has(name) ? 'MODIFIED' : 'ADDED';
    const obj = pod(name, ip, String(++this.rv));
    this.pods.set(name, obj);
    if (notify) this.send(type, obj);
  }

  remove(name: string, notify = true): void {
    const obj = this.pods.get(name);
    this.pods.delete(name);
    this.rv++;
    if (notify && obj) this.send('DELETED', { ...obj, metadata: { ...(obj['metadata'] as object), resourceVersion: String(this.rv) } });
  }

  /** Tell every watcher its resourceVersion is too old, and close the stream (what etcd compaction causes). */
  expireWatches(): void {
    for (const w of this.watchers) {
      w.write(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 410, reason: 'Expired' } })}\n`);
      w.end();
    }
    this.watchers = [];
  }

  async close(): Promise<void> {
    for (const w of this.watchers) w.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private send(type: string, object: Record<string, unknown>): void {
    for (const w of this.watchers) w.write(`${JSON.stringify({ type, object })}\n`);
  }
}

function pod(name: string, ip: string, resourceVersion: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'ns1', uid: `uid-${name}`, resourceVersion },
    spec: { containers: [{ name: 'c' }] },
    status: { podIP: ip },
  };
}

function kubeConfig(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'ctx', cluster: 'fake', user: 'u' }],
    currentContext: 'ctx',
  });
  return kc;
}

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const PODS = WATCHED_RESOURCES.filter((r) => r.key === 'Pod');

describe('KubernetesSource', () => {
  let api: FakeApiServer | undefined;
  let source: KubernetesSource | undefined;
  afterEach(async () => {
    await source?.stop();
    await api?.close();
  });

  it('lists, then turns watch events into store adds, updates and deletes', async () => {
    api = new FakeApiServer();
    api.put('a', '10.0.0.1');
    const url = await api.listen();
    const store = new ConfigStore({ logger: captureLogger().logger });
    const seen: string[] = [];
    store.subscribe((e) => seen.push(`${e.type} ${e.name}`));
    source = new KubernetesSource({ kubeConfig: kubeConfig(url), store, logger: captureLogger().logger, resources: PODS });
    source.start();
    await source.waitForSync();
    expect(store.get('Pod', 'ns1', 'a')?.status?.podIP).toBe('10.0.0.1');
    await until(() => api!.watchRvs.length === 1);
    expect(api.watchRvs[0]).toBe('101');
    api.put('b', '10.0.0.2');
    api.put('a', '10.0.0.9');
    api.remove('b');
    await until(() => seen.length === 4);
    expect(seen).toEqual(['add a', 'add b', 'update a', 'delete b']);
  });

  it('re-lists on 410 Gone and reconciles what changed while the watch was stale', async () => {
    api = new FakeApiServer();
    api.put('a', '10.0.0.1');
    api.put('b', '10.0.0.2');
    const url = await api.listen();
    const store = new ConfigStore({ logger: captureLogger().logger });
    source = new KubernetesSource({ kubeConfig: kubeConfig(url), store, logger: captureLogger().logger, resources: PODS });
    source.start();
    await source.waitForSync();
    await until(() => api!.watchRvs.length === 1);
    api.remove('b', false);
    api.put('c', '10.0.0.3', false);
    api.expireWatches();
    await until(() => store.get('Pod', 'ns1', 'c') !== undefined && store.get('Pod', 'ns1', 'b') === undefined);
    expect(api.lists).toBe(2);
    expect(store.list('Pod').map((p) => p.metadata.name).sort()).toEqual(['a', 'c']);
  });

  it('backs off and retries when listing fails', async () => {
    api = new FakeApiServer();
    api.put('a', '10.0.0.1');
    api.failNextLists = 2;
    const url = await api.listen();
    const { logger, lines } = captureLogger();
    const store = new ConfigStore({ logger });
    source = new KubernetesSource({ kubeConfig: kubeConfig(url), store, logger, resources: PODS, backoffInitialMs: 20 });
    source.start();
    await source.waitForSync();
    expect(api.lists).toBe(3);
    expect(store.get('Pod', 'ns1', 'a')).toBeDefined();
    expect(lines().filter((l) => l['level'] === 'warn' && l['resource'] === 'Pod')).toHaveLength(2);
  });
});
