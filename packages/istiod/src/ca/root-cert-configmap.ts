import { createLogger, type Logger } from '@mesh/core';
import type { AnyConfigEvent, ConfigStore } from '../config';
import { KeyedQueue, type KubeRest } from '../leader';

/** Istio's per-namespace trust bundle (security/pkg/k8s/configmap, pilot/pkg/bootstrap namespace controller). */
export const ROOT_CERT_CONFIGMAP = 'istio-ca-root-cert';
export const ROOT_CERT_KEY = 'root-cert.pem';
/** Namespaces Istio's namespace controller leaves alone (inject.IgnoredNamespaces). */
export const ROOT_CERT_IGNORED_NAMESPACES: readonly string[] = ['kube-system', 'kube-public', 'kube-node-lease', 'local-path-storage'];

export interface RootCertPublisherOptions {
  rest: KubeRest;
  /** Namespaces and ConfigMaps come from here (the KubernetesSource already watches both). */
  store: ConfigStore;
  rootCertPem: () => string;
  ignoredNamespaces?: readonly string[];
  minIntervalMs?: number;
  logger?: Logger;
}

const cmPath = (ns: string, name?: string): string =>
  `/api/v1/namespaces/${encodeURIComponent(ns)}/configmaps${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;

/**
 * Keeps ConfigMap istio-ca-root-cert (key root-cert.pem) in every namespace equal to the mesh root: created
 * when a namespace appears, re-created when deleted, rewritten when edited or when the root changes. Run it
 * only while leading (`start` on gaining the lease, `stop` on losing it), as Istio's namespace controller.
 */
export class RootCertPublisher {
  private readonly log: Logger;
  private queue: KeyedQueue | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly o: RootCertPublisherOptions) {
    this.log = o.logger ?? createLogger({ component: 'istiod-root-cert' });
  }

  start(): void {
    if (this.queue) return;
    const queue = new KeyedQueue({ handle: (ns, run) => this.reconcile(ns, run), logger: this.log, ...(this.o.minIntervalMs === undefined ? {} : { minIntervalMs: this.o.minIntervalMs }) });
    this.queue = queue;
    this.unsubscribe = this.o.store.subscribe((e) => this.onEvent(queue, e));
    this.rootChanged();
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.queue?.stop();
    this.queue = undefined;
  }

  /** Re-check every namespace (call after a root rotation). */
  rootChanged(): void {
    for (const ns of this.o.store.list('Namespace')) this.queue?.add(ns.metadata.name);
  }

  idle(): Promise<void> {
    return this.queue?.idle() ?? Promise.resolve();
  }

  private onEvent(queue: KeyedQueue, e: AnyConfigEvent): void {
    if (e.kind === 'Namespace' && e.type !== 'delete') queue.add(e.name);
    else if (e.kind === 'ConfigMap' && e.name === ROOT_CERT_CONFIGMAP) queue.add(e.namespace);
  }

  private async reconcile(namespace: string, run: { readonly stopped: boolean }): Promise<void> {
    if ((this.o.ignoredNamespaces ?? ROOT_CERT_IGNORED_NAMESPACES).includes(namespace)) return;
    const ns = this.o.store.get('Namespace', '', namespace);
    if (ns === undefined || (ns as { status?: { phase?: string } }).status?.phase === 'Terminating') return;
    const root = this.o.rootCertPem();
    const { rest } = this.o;
    const got = await rest.call('GET', cmPath(namespace, ROOT_CERT_CONFIGMAP));
    // Leadership may have ended while the GET was out: a former leader must not write.
    if (run.stopped) return;
    if (got.status === 404) {
      const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: ROOT_CERT_CONFIGMAP, namespace, labels: { 'istio.io/config': 'true' } }, data: { [ROOT_CERT_KEY]: root } };
      const created = await rest.call('POST', cmPath(namespace), body);
      if (created.status === 201) this.log.info({ namespace }, `created ConfigMap ${ROOT_CERT_CONFIGMAP}`);
      else if (created.status !== 409) await rest.ok('POST', cmPath(namespace), body);
      return;
    }
    if (got.status !== 200) await rest.ok('GET', cmPath(namespace, ROOT_CERT_CONFIGMAP));
    const data = (got.body['data'] ?? {}) as Record<string, string>;
    if (data[ROOT_CERT_KEY] === root) return;
    await rest.ok('PATCH', cmPath(namespace, ROOT_CERT_CONFIGMAP), { data: { [ROOT_CERT_KEY]: root } }, 'application/merge-patch+json');
    this.log.info({ namespace }, `updated ConfigMap ${ROOT_CERT_CONFIGMAP} to the current root`);
  }
}
