import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';

export const KUBE_REQUEST_TIMEOUT_MS = 15_000;

/** A Kubernetes API call that did not succeed; `status` is the HTTP status (0 when the server was unreachable). */
export class KubeApiError extends Error {
  readonly code = 'KUBE_API';

  constructor(readonly status: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KubeApiError';
  }
}

export interface KubeTarget {
  /** Path of a kubeconfig file; empty = $KUBECONFIG or ~/.kube/config, as kubectl. */
  kubeconfig?: string;
  /** Context to use instead of the current one. */
  context?: string;
}

/** The handful of JSON calls meshctl makes against a cluster, with kubectl's credential loading. */
export class KubeClient {
  private constructor(private readonly kc: KubeConfig, private readonly server: string) {}

  static load(t: KubeTarget): KubeClient {
    const kc = new KubeConfig();
    if (t.kubeconfig) kc.loadFromFile(t.kubeconfig);
    else kc.loadFromDefault();
    if (t.context) kc.setCurrentContext(t.context);
    const server = kc.getCurrentCluster()?.server;
    if (!server) throw new KubeApiError(0, `no cluster in kubeconfig${t.kubeconfig ? ` ${t.kubeconfig}` : ''}${t.context ? ` for context "${t.context}"` : ''}; check --kubeconfig/--context`);
    return new KubeClient(kc, server);
  }

  /** Any status resolves (callers branch on 404/409); an unreachable server rejects with KubeApiError. */
  async call(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; body: Record<string, unknown> }> {
    const url = new URL(this.server.replace(/\/+$/, '') + path);
    const headers: Record<string, string> = { accept: 'application/json' };
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) headers['content-type'] = contentType;
    const opts: RequestOptions = { method, headers, timeout: KUBE_REQUEST_TIMEOUT_MS };
    await this.kc.applyToHTTPSOptions(opts);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, opts, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          let parsed: Record<string, unknown>;
          try {
            parsed = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
          } catch {
            parsed = { message: text.slice(0, 200) };
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${KUBE_REQUEST_TIMEOUT_MS} ms`)));
      req.on('error', (err) => reject(new KubeApiError(0, `${method} ${url.origin}${path}: ${err.message}; is the cluster reachable?`, { cause: err })));
      req.end(payload);
    });
  }

  /** Like `call`, but anything other than 2xx rejects with the server's message. */
  async ok(method: string, path: string, body?: unknown, contentType?: string): Promise<Record<string, unknown>> {
    const r = await this.call(method, path, body, contentType);
    if (r.status >= 200 && r.status < 300) return r.body;
    const why = typeof r.body['message'] === 'string' ? r.body['message'] : `HTTP ${r.status}`;
    throw new KubeApiError(r.status, `${method} ${path}: ${why}`);
  }
}
