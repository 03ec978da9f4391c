import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { ResourceKey } from '@mesh/api';
import { createLogger, defineMeshError, type Logger } from '@mesh/core';
import { collectionPath, WATCHED_RESOURCES, type WatchedResource } from './kube-resources';
import type { ConfigStore } from './store';

export const KUBE_BACKOFF_INITIAL_MS = 500;
export const KUBE_BACKOFF_MAX_MS = 30_000;
export const KUBE_LIST_TIMEOUT_MS = 60_000;

export const KubeListError = defineMeshError(
  'KUBE_LIST_FAILED',
  'KubeListError',
  (d: { path: string; status: number | string }) =>
    `listing ${d.path} failed (${d.status}); check that the CRD is installed and istiod's RBAC allows list/watch on it`,
);

export interface KubernetesSourceOptions {
  kubeConfig: KubeConfig;
  store: ConfigStore;
  logger?: Logger;
  /** Subset of WATCHED_RESOURCES (default: all). */
  resources?: readonly WatchedResource[];
  backoffInitialMs?: number;
  backoffMaxMs?: number;
}

/**
 * Config from the Kubernetes API: one ListWatch (list, then watch from the list's resourceVersion) per
 * resource type. The client re-lists on 410 Gone by itself; on any other error we restart it after an
 * exponential backoff (re-watching from the last resourceVersion). Every add/update/delete becomes the same
 * raw change the directory source produces, and the store validates it.
 */
export class KubernetesSource {
  private readonly informers: { res: WatchedResource; lw: ListWatch<KubernetesObject>; attempt: number; timer?: NodeJS.Timeout }[] = [];
  private readonly log: Logger;
  private readonly synced = new Set<ResourceKey>();
  private syncWaiters: (() => void)[] = [];
  private stopped = false;

  constructor(private readonly options: KubernetesSourceOptions) {
    this.log = options.logger ?? createLogger({ component: 'istiod-config-kube' });
  }

  start(): void {
    this.stopped = false;
    for (const res of this.options.resources ?? WATCHED_RESOURCES) this.startInformer(res);
  }

  /** Resolves once every watched type has been listed at least once. */
  waitForSync(): Promise<void> {
    if (this.isSynced()) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  isSynced(): boolean {
    return this.synced.size === (this.options.resources ?? WATCHED_RESOURCES).length;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const i of this.informers) {
      if (i.timer) clearTimeout(i.timer);
      await i.lw.stop();
    }
  }

  private startInformer(res: WatchedResource): void {
    const path = collectionPath(res);
    const lw = new ListWatch<KubernetesObject>(path, new Watch(this.options.kubeConfig), () => this.list(res, path), false);
    const entry: (typeof this.informers)[number] = { res, lw, attempt: 0 };
    this.informers.push(entry);
    const store = this.options.store;
    const upsert = (obj: KubernetesObject): void => {
      entry.attempt = 0;
      store.apply({ op: 'upsert', object: stamp(obj, res), origin: { source: `kube:${res.key}` } });
    };
    lw.on('add', upsert);
    lw.on('update', upsert);
    lw.on('delete', (obj) => {
      const meta = obj.metadata;
      if (meta?.name) store.apply({ op: 'delete', kind: res.key, namespace: meta.namespace ?? '', name: meta.name });
    });
    lw.on('error', (err) => this.retry(entry, err));
    void lw.start().catch((err: unknown) => this.retry(entry, err));
  }

  private retry(entry: (typeof this.informers)[number], err: unknown): void {
    if (this.stopped) return;
    const initial = this.options.backoffInitialMs ?? KUBE_BACKOFF_INITIAL_MS;
    const delay = Math.min(this.options.backoffMaxMs ?? KUBE_BACKOFF_MAX_MS, initial * 2 ** entry.attempt);
    entry.attempt = Math.min(entry.attempt + 1, 30);
    this.log.warn({ err, resource: entry.res.key, retryInMs: delay }, `watch of ${entry.res.key} failed; retrying`);
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      if (!this.stopped) void entry.lw.start().catch((e: unknown) => this.retry(entry, e));
    }, delay);
    entry.timer.unref();
  }

  private async list(res: WatchedResource, path: string): Promise<KubernetesListObject<KubernetesObject>> {
    const body = await this.get(path);
    const list = JSON.parse(body) as KubernetesListObject<KubernetesObject>;
    const items = Array.isArray(list.items) ? list.items.map((o) => stamp(o, res)) : [];
    // ListWatch adds the items right after this promise settles; mark synced after that.
    setImmediate(() => this.markSynced(res.key));
    return { ...list, items };
  }

  private markSynced(key: ResourceKey): void {
    this.synced.add(key);
    if (!this.isSynced()) return;
    const waiters = this.syncWaiters;
    this.syncWaiters = [];
    for (const w of waiters) w();
  }

  private async get(path: string): Promise<string> {
    const kc = this.options.kubeConfig;
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new KubeListError({ path, status: 'no current cluster in kubeconfig' });
    const url = new URL(cluster.server + path);
    const opts: RequestOptions = { method: 'GET', headers: { accept: 'application/json' }, timeout: KUBE_LIST_TIMEOUT_MS };
    await kc.applyToHTTPSOptions(opts);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status === 200) resolve(Buffer.concat(chunks).toString('utf8'));
          else reject(Object.assign(new KubeListError({ path, status }), { statusCode: status }));
        });
      });
      req.on('timeout', () => req.destroy(new KubeListError({ path, status: 'timeout' })));
      req.on('error', reject);
      req.end();
    });
  }
}

/** List items arrive without apiVersion/kind; watch events have them. Stamp both so validation can dispatch. */
function stamp(obj: KubernetesObject, res: WatchedResource): KubernetesObject {
  if (obj.apiVersion === res.apiVersion && obj.kind === res.kind) return obj;
  return { ...obj, apiVersion: res.apiVersion, kind: res.kind };
}
