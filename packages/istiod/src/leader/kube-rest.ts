import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { defineMeshError } from '@mesh/core';

export const KUBE_WRITE_TIMEOUT_MS = 10_000;

export const KubeRequestError = defineMeshError(
  'KUBE_REQUEST_FAILED',
  'KubeRequestError',
  (d: { method: string; path: string; status: number | string }) =>
    `${d.method} ${d.path} failed (${d.status}); check the API server is reachable and istiod's RBAC allows this verb`,
);

export interface KubeReply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/**
 * The few JSON calls the writers need (GET/POST/PUT and merge-patch), sent with the kubeconfig's credentials.
 * Non-2xx replies resolve (callers branch on 404/409); transport failures reject.
 */
export class KubeRest {
  constructor(private readonly kc: KubeConfig) {}

  async call(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<KubeReply> {
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new KubeRequestError({ method, path, status: 'no current cluster in kubeconfig' });
    const url = new URL(cluster.server + path);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (payload !== undefined) headers['content-type'] = contentType;
    const opts: RequestOptions = { method, headers, timeout: KUBE_WRITE_TIMEOUT_MS };
    await this.kc.applyToHTTPSOptions(opts);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: Record<string, unknown> = {};
          try {
            parsed = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
          } catch {
            parsed = { message: text };
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      });
      req.on('timeout', () => req.destroy(new KubeRequestError({ method, path, status: 'timeout' })));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Like `call`, but a non-2xx reply rejects with KubeRequestError. */
  async ok(method: string, path: string, body?: unknown, contentType?: string): Promise<Record<string, unknown>> {
    const r = await this.call(method, path, body, contentType);
    if (r.status < 200 || r.status > 299) {
      const message = typeof r.body['message'] === 'string' ? `${r.status}: ${r.body['message']}` : r.status;
      throw new KubeRequestError({ method, path, status: message });
    }
    return r.body;
  }

  mergePatch(path: string, patch: unknown): Promise<KubeReply> {
    return this.call('PATCH', path, patch, 'application/merge-patch+json');
  }
}
