// Shared helpers for tests against the real kube-apiserver started by tools/kube/apiserver.mjs.
import { existsSync, readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const HELPER = join(repoRoot, 'tools/kube/apiserver.mjs');
const REQUEST_TIMEOUT_MS = 10_000;

export interface KubeCluster {
  url: string;
  token: string;
  kubeconfigPath: string;
  caPem: string;
  etcdUrl: string;
  pkiDir: string;
  port: number;
  pauseApiServer(): Promise<void>;
  resumeApiServer(): Promise<void>;
  logs(): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  dir?: string;
  etcdUrl?: string;
  pkiDir?: string;
  extraArgs?: string[];
  startupTimeoutMs?: number;
}

/** The typed surface of tools/kube/apiserver.mjs (tools/ is not a workspace package, so it is loaded by URL). */
export interface KubeHelper {
  apiServerBinary(): string | undefined;
  startApiServer(options?: StartOptions): Promise<KubeCluster>;
  compactEtcd(etcdUrl: string): Promise<number>;
}

export async function loadHelper(): Promise<KubeHelper> {
  return (await import(pathToFileURL(HELPER).href)) as KubeHelper;
}

/** Why the real-apiserver tests skip, or undefined when they can run. */
export async function skipReason(): Promise<string | undefined> {
  const helper = await loadHelper();
  if (helper.apiServerBinary() !== undefined) return undefined;
  return 'kube-apiserver is not built: run tools/kube/build-apiserver.sh (scripts/test.sh does) to enable these tests';
}

export interface KubeResponse {
  status: number;
  body: Record<string, unknown>;
}

/** One API call with the cluster's CA and a bearer token (admin unless given). */
export function kube(cluster: KubeCluster, method: string, path: string, body?: unknown, opts: { token?: string; contentType?: string } = {}): Promise<KubeResponse> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = { authorization: `Bearer ${opts.token ?? cluster.token}`, accept: 'application/json' };
  if (payload !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
  return new Promise((res, rej) => {
    const req = httpsRequest(new URL(path, cluster.url), { method, ca: cluster.caPem, headers, timeout: REQUEST_TIMEOUT_MS }, (r) => {
      let text = '';
      r.on('data', (c: Buffer) => (text += c.toString()));
      r.on('end', () => res({ status: r.statusCode ?? 0, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', rej);
    req.end(payload);
  });
}

/** Like `kube`, but fails the test with the server's message unless the status is 2xx. */
export async function kubeOk(cluster: KubeCluster, method: string, path: string, body?: unknown, contentType?: string): Promise<Record<string, unknown>> {
  const r = await kube(cluster, method, path, body, contentType === undefined ? {} : { contentType });
  if (r.status < 200 || r.status > 299) throw new Error(`${method} ${path} -> ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body;
}

interface Meta {
  name: string;
  namespace?: string;
}
export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: Meta & Record<string, unknown>;
  [k: string]: unknown;
}

const PLURALS: Record<string, string> = {
  Namespace: 'namespaces', Node: 'nodes', Pod: 'pods', Service: 'services', ServiceAccount: 'serviceaccounts',
  EndpointSlice: 'endpointslices', AuthorizationPolicy: 'authorizationpolicies', PeerAuthentication: 'peerauthentications',
  Gateway: 'gateways', GatewayClass: 'gatewayclasses', CustomResourceDefinition: 'customresourcedefinitions',
};
const CLUSTER_SCOPED = new Set(['Namespace', 'Node', 'GatewayClass', 'CustomResourceDefinition']);

/** REST path of an object (collection when `name` is omitted). */
export function pathOf(obj: { apiVersion: string; kind: string; metadata: Meta }, withName = true): string {
  const plural = PLURALS[obj.kind];
  if (!plural) throw new Error(`no plural known for ${obj.kind}; add it to PLURALS`);
  const base = obj.apiVersion.includes('/') ? `/apis/${obj.apiVersion}` : `/api/${obj.apiVersion}`;
  const ns = CLUSTER_SCOPED.has(obj.kind) ? '' : `/namespaces/${obj.metadata.namespace ?? 'default'}`;
  return `${base}${ns}/${plural}${withName ? `/${obj.metadata.name}` : ''}`;
}

/**
 * Creates an object as `kubectl apply` of a fresh manifest would, then writes its status through the status
 * subresource (create ignores status; the kubelet/controllers that normally write it do not run here).
 * Returns the object as the server stored it.
 */
export async function createWithStatus(cluster: KubeCluster, obj: ManifestObject): Promise<Record<string, unknown>> {
  const { status, ...rest } = obj;
  let stored = await kubeOk(cluster, 'POST', pathOf(obj, false), rest);
  if (status !== undefined) {
    stored = await kubeOk(cluster, 'PATCH', `${pathOf(obj)}/status`, { status }, 'application/merge-patch+json');
  }
  return stored;
}

export function parseManifests(text: string): ManifestObject[] {
  return parseAllDocuments(text).map((d) => d.toJS() as ManifestObject).filter((o) => o !== null);
}

/** Istio CRDs from the base chart when present (the real schemas), else minimal schemaless ones. */
export function istioCrds(): ManifestObject[] {
  const chartCrds = join(repoRoot, 'charts/base/files/crd-all.gen.yaml');
  if (existsSync(chartCrds)) return parseManifests(readFileSync(chartCrds, 'utf8')).filter((o) => o.kind === 'CustomResourceDefinition');
  return [
    minimalCrd('security.istio.io', 'AuthorizationPolicy', 'authorizationpolicies', ['v1', 'v1beta1'], true),
    minimalCrd('security.istio.io', 'PeerAuthentication', 'peerauthentications', ['v1', 'v1beta1'], true),
    minimalCrd('networking.istio.io', 'ServiceEntry', 'serviceentries', ['v1', 'v1beta1'], true),
    minimalCrd('networking.istio.io', 'WorkloadEntry', 'workloadentries', ['v1', 'v1beta1'], true),
  ];
}

/** Gateway API v1 GatewayClass and Gateway, schemaless (the upstream CRDs need CEL, absent in 1.20). */
export function gatewayCrds(): ManifestObject[] {
  return [
    minimalCrd('gateway.networking.k8s.io', 'GatewayClass', 'gatewayclasses', ['v1'], false),
    minimalCrd('gateway.networking.k8s.io', 'Gateway', 'gateways', ['v1'], true),
  ];
}

function minimalCrd(group: string, kind: string, plural: string, versions: string[], namespaced: boolean): ManifestObject {
  const schema = { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } };
  // Groups under *.k8s.io are protected: the API server wants the approval annotation upstream CRDs carry.
  const annotations = group.endsWith('.k8s.io') ? { 'api-approved.kubernetes.io': 'https://github.com/kubernetes-sigs/gateway-api/pull/891' } : {};
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}`, annotations },
    spec: {
      group,
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      scope: namespaced ? 'Namespaced' : 'Cluster',
      versions: versions.map((name, i) => ({ name, served: true, storage: i === 0, schema, subresources: { status: {} } })),
    },
  };
}

/** Creates CRDs and waits until each is Established (served). */
export async function installCrds(cluster: KubeCluster, crds: ManifestObject[], timeoutMs = 20_000): Promise<void> {
  for (const crd of crds) {
    const r = await kube(cluster, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
    if (r.status !== 201 && r.status !== 409) throw new Error(`creating CRD ${crd.metadata.name}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  for (const crd of crds) {
    await waitFor(`CRD ${crd.metadata.name} established`, async () => {
      const r = await kube(cluster, 'GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`);
      const conds = ((r.body['status'] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions) ?? [];
      return conds.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
    }, timeoutMs);
  }
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
