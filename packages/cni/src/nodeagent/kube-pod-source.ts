import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { Namespace, Pod } from '@mesh/api';
import type { Logger } from '@mesh/core';
import { kubeRequest, KubeRequestError } from './kube-http';
import { podKey, type PodSource, type PodSourceHandlers, type WatchEventType } from './pod-source';

export const KUBE_WATCH_BACKOFF_INITIAL_MS = 500;
export const KUBE_WATCH_BACKOFF_MAX_MS = 30_000;
const PODS_PATH = '/api/v1/pods';
const NAMESPACES_PATH = '/api/v1/namespaces';

export interface KubernetesPodSourceOptions {
  readonly kubeConfig: KubeConfig;
  readonly nodeName: string;
  readonly logger: Logger;
  readonly backoffInitialMs?: number;
  readonly backoffMaxMs?: number;
}

interface Informer<T> {
  readonly kind: 'Pod' | 'Namespace';
  readonly lw: ListWatch<KubernetesObject>;
  readonly cache: Map<string, T>;
  attempt: number;
  timer?: NodeJS.Timeout;
  synced: boolean;
  onSynced?: () => void;
}

/**
 * Pods of this node (field selector spec.nodeName=<node>, as Istio's node-local pod informer) and all
 * Namespaces from the API server, each a ListWatch: list, then watch from the list's resourceVersion;
 * the client re-lists by itself on 410 Gone (emitting deletes for what vanished meanwhile), any other
 * failure restarts it after an exponential backoff. `start` resolves once both are listed; the initial
 * list produces no events, as the PodSource contract says.
 */
export class KubernetesPodSource implements PodSource {
  readonly #o: KubernetesPodSourceOptions;
  readonly #pods: Informer<Pod>;
  readonly #namespaces: Informer<Namespace>;
  #handlers: PodSourceHandlers | undefined;
  #stopped = false;

  constructor(opts: KubernetesPodSourceOptions) {
    this.#o = opts;
    const selector = `spec.nodeName=${opts.nodeName}`;
    this.#pods = this.#informer<Pod>('Pod', PODS_PATH, selector, (type, pod, old) => this.#handlers?.onPod({ type, pod, old }));
    this.#namespaces = this.#informer<Namespace>('Namespace', NAMESPACES_PATH, undefined, (type, namespace, old) =>
      this.#handlers?.onNamespace({ type, namespace, old }),
    );
  }

  async start(handlers: PodSourceHandlers): Promise<void> {
    this.#stopped = false;
    // Namespaces first, so the first pod events already see the namespace labels they depend on.
    await this.#startInformer(this.#namespaces);
    await this.#startInformer(this.#pods);
    this.#handlers = handlers;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#handlers = undefined;
    for (const i of [this.#pods, this.#namespaces]) {
      clearTimeout(i.timer);
      await i.lw.stop();
    }
  }

  listPods(): readonly Pod[] {
    return [...this.#pods.cache.values()];
  }

  getPod(namespace: string, name: string): Pod | undefined {
    return this.#pods.cache.get(podKey(namespace, name));
  }

  getNamespace(name: string): Namespace | undefined {
    return this.#namespaces.cache.get(name);
  }

  #informer<T extends Pod | Namespace>(
    kind: 'Pod' | 'Namespace',
    path: string,
    fieldSelector: string | undefined,
    emit: (type: WatchEventType, obj: T, old: T | undefined) => void,
  ): Informer<T> {
    const listPath = fieldSelector === undefined ? path : `${path}?fieldSelector=${encodeURIComponent(fieldSelector)}`;
    const lw = new ListWatch<KubernetesObject>(path, new Watch(this.#o.kubeConfig), () => this.#list(inf, listPath), false, undefined, fieldSelector);
    const inf: Informer<T> = { kind, lw, cache: new Map(), attempt: 0, synced: false };
    const upsert = (raw: KubernetesObject): void => {
      inf.attempt = 0;
      const obj = stamp<T>(raw, kind);
      const key = keyOf(obj);
      const old = inf.cache.get(key);
      inf.cache.set(key, obj);
      if (inf.synced) emit(old ? 'update' : 'add', obj, old);
    };
    lw.on('add', upsert);
    lw.on('update', upsert);
    lw.on('delete', (raw) => {
      const obj = stamp<T>(raw, kind);
      const key = keyOf(obj);
      const old = inf.cache.get(key);
      inf.cache.delete(key);
      if (inf.synced) emit('delete', old ?? obj, undefined);
    });
    lw.on('error', (err) => this.#retry(inf, err));
    return inf;
  }

  /** Resolves once the first list is in the cache; failures before that are retried with backoff. */
  #startInformer<T>(inf: Informer<T>): Promise<void> {
    const synced = new Promise<void>((resolve) => (inf.onSynced = resolve));
    void inf.lw.start().catch((err: unknown) => this.#retry(inf, err));
    return synced;
  }

  async #list<T>(inf: Informer<T>, path: string): Promise<KubernetesListObject<KubernetesObject>> {
    const res = await kubeRequest(this.#o.kubeConfig, 'GET', path);
    if (res.status !== 200) throw Object.assign(new KubeRequestError({ method: 'GET', path, status: res.status }), { statusCode: res.status });
    const list = JSON.parse(res.body) as KubernetesListObject<KubernetesObject>;
    // ListWatch adds the items right after this promise settles; the informer is synced after that.
    setImmediate(() => {
      if (inf.synced) return;
      inf.synced = true;
      inf.onSynced?.();
    });
    return { ...list, items: Array.isArray(list.items) ? list.items : [] };
  }

  #retry<T>(inf: Informer<T>, err: unknown): void {
    if (this.#stopped) return;
    const initial = this.#o.backoffInitialMs ?? KUBE_WATCH_BACKOFF_INITIAL_MS;
    const delay = Math.min(this.#o.backoffMaxMs ?? KUBE_WATCH_BACKOFF_MAX_MS, initial * 2 ** inf.attempt);
    inf.attempt = Math.min(inf.attempt + 1, 30);
    this.#o.logger.warn({ err, kind: inf.kind, retryInMs: delay }, `list/watch of ${inf.kind}s failed; retrying`);
    clearTimeout(inf.timer);
    inf.timer = setTimeout(() => {
      inf.timer = undefined;
      if (!this.#stopped) void inf.lw.start().catch((e: unknown) => this.#retry(inf, e));
    }, delay);
  }
}

/** List items arrive without apiVersion/kind (watch events carry them); the agent's types expect both. */
function stamp<T>(obj: KubernetesObject, kind: 'Pod' | 'Namespace'): T {
  return (obj.kind === kind ? obj : { ...obj, apiVersion: 'v1', kind }) as unknown as T;
}

function keyOf(obj: Pod | Namespace): string {
  return obj.kind === 'Pod' ? podKey(obj.metadata.namespace ?? 'default', obj.metadata.name) : obj.metadata.name;
}
