import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

type Obj = {
  metadata: { name: string; namespace?: string; resourceVersion?: string; annotations?: Record<string, string | null>; [k: string]: unknown };
  spec?: { nodeName?: string; [k: string]: unknown };
  [k: string]: unknown;
};

interface Watcher {
  readonly res: ServerResponse;
  readonly resource: 'pods' | 'namespaces';
  readonly fieldSelector: string | null;
}

/** A loopback API server speaking list/watch JSON for pods and namespaces, plus pod merge patches. */
export class FakeKubeApi {
  readonly server: Server;
  readonly requests: { method: string; url: string; contentType?: string; body: string }[] = [];
  readonly store = { pods: new Map<string, Obj>(), namespaces: new Map<string, Obj>() };
  patchStatus: number | undefined;
  #rv = 100;
  #watchers: Watcher[] = [];

  constructor() {
    this.server = createServer((req, res) => void this.#handle(req, res));
  }

  async listen(): Promise<KubeConfig> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    const server = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server, skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'c', cluster: 'fake', user: 'u' }],
      currentContext: 'c',
    });
    return kc;
  }

  async close(): Promise<void> {
    for (const w of this.#watchers) w.res.destroy();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  put(resource: 'pods' | 'namespaces', obj: Obj, notify = true): void {
    const key = keyOf(obj);
    const type = this.store[resource].has(key) ? 'MODIFIED' : 'ADDED';
    const stored = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.#rv) } };
    this.store[resource].set(key, stored);
    if (notify) this.#send(resource, type, stored);
  }

  remove(resource: 'pods' | 'namespaces', obj: Obj, notify = true): void {
    const stored = this.store[resource].get(keyOf(obj));
    this.store[resource].delete(keyOf(obj));
    if (notify && stored) this.#send(resource, 'DELETED', { ...stored, metadata: { ...stored.metadata, resourceVersion: String(++this.#rv) } });
  }

  /** What etcd compaction does to a watch: an ERROR 410 event, then the stream closes. */
  expireWatches(): void {
    for (const w of this.#watchers) {
      w.res.write(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } })}\n`);
      w.res.end();
    }
    this.#watchers = [];
  }

  watchCount(resource: 'pods' | 'namespaces'): number {
    return this.#watchers.filter((w) => w.resource === resource).length;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push({ method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'], body: Buffer.concat(chunks).toString() });
    const patch = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'PATCH' && patch) return this.#patch(`${patch[1]}/${patch[2]}`, Buffer.concat(chunks).toString(), res);
    const resource = url.pathname === '/api/v1/pods' ? 'pods' : url.pathname === '/api/v1/namespaces' ? 'namespaces' : undefined;
    if (!resource) return void res.writeHead(404).end('{}');
    const fieldSelector = url.searchParams.get('fieldSelector');
    if (url.searchParams.get('watch') === 'true') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      this.#watchers.push({ res, resource, fieldSelector });
      return;
    }
    // List items carry no apiVersion/kind, as on a real API server.
    const items = [...this.store[resource].values()].filter((o) => matches(o, fieldSelector)).map(({ apiVersion: _a, kind: _k, ...rest }) => rest);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: String(this.#rv) }, items }));
  }

  #patch(key: string, body: string, res: ServerResponse): void {
    if (this.patchStatus !== undefined) return void res.writeHead(this.patchStatus).end('{}');
    const pod = this.store.pods.get(key);
    if (!pod) return void res.writeHead(404).end('{}');
    const annotations: Record<string, string | null> = { ...pod.metadata.annotations };
    const want = (JSON.parse(body) as { metadata: { annotations: Record<string, string | null> } }).metadata.annotations;
    for (const [k, v] of Object.entries(want)) {
      if (v === null) delete annotations[k];
      else annotations[k] = v;
    }
    this.put('pods', { ...pod, metadata: { ...pod.metadata, annotations } });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.store.pods.get(key)));
  }

  #send(resource: 'pods' | 'namespaces', type: string, obj: Obj): void {
    for (const w of this.#watchers) {
      if (w.resource === resource && matches(obj, w.fieldSelector)) w.res.write(`${JSON.stringify({ type, object: obj })}\n`);
    }
  }
}

function keyOf(obj: Obj): string {
  return obj.metadata.namespace === undefined ? obj.metadata.name : `${obj.metadata.namespace}/${obj.metadata.name}`;
}

/** Only the selector the agent uses: spec.nodeName=<node>. */
function matches(obj: Obj, fieldSelector: string | null): boolean {
  if (!fieldSelector) return true;
  const m = /^spec\.nodeName=(.*)$/.exec(fieldSelector);
  return m !== null && obj.spec?.nodeName === m[1];
}

export function kubePod(name: string, node: string, extra: { ns?: string; labels?: Record<string, string> } = {}): Obj {
  const ns = extra.ns ?? 'default';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, uid: `uid-${ns}-${name}`, labels: extra.labels ?? {}, annotations: { keep: 'me' } },
    spec: { nodeName: node, containers: [{ name: 'app' }] },
    status: { phase: 'Running', podIP: '10.244.0.5' },
  };
}

export function kubeNamespace(name: string, labels: Record<string, string> = {}): Obj {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}
