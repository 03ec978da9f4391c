import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { defineMeshError } from '@mesh/core';

/** Bound on one list or patch round trip; watches are long-lived and not subject to it. */
export const KUBE_REQUEST_TIMEOUT_MS = 30_000;

export const KubeRequestError = defineMeshError(
  'CNI_KUBE_REQUEST_FAILED',
  'KubeRequestError',
  (d: { method: string; path: string; status: number | string }) =>
    `${d.method} ${d.path} failed (${d.status}); check the API server is reachable and the istio-cni service account's RBAC allows it`,
);

export interface KubeResponse {
  readonly status: number;
  readonly body: string;
}

/**
 * One JSON request to the API server with the kubeconfig's credentials and TLS settings. Raw
 * http(s) instead of the generated clients keeps the agent's dependency surface to Watch/ListWatch.
 */
export async function kubeRequest(kc: KubeConfig, method: string, path: string, body?: { contentType: string; data: string }): Promise<KubeResponse> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new KubeRequestError({ method, path, status: 'no current cluster in the kubeconfig' });
  const url = new URL(cluster.server + path);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body) headers['content-type'] = body.contentType;
  const opts: RequestOptions = { method, headers, timeout: KUBE_REQUEST_TIMEOUT_MS };
  await kc.applyToHTTPSOptions(opts);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new KubeRequestError({ method, path, status: 'timeout' })));
    req.on('error', reject);
    req.end(body?.data);
  });
}

/** KUBECONFIG if set, else the pod's service account (in-cluster), as the agent runs in a DaemonSet. */
export function loadKubeConfig(kubeconfigPath: string): KubeConfig {
  const kc = new KubeConfig();
  if (kubeconfigPath !== '') kc.loadFromFile(kubeconfigPath);
  else kc.loadFromCluster();
  return kc;
}
