// istiod's Kubernetes TokenReview authenticator against a REAL kube-apiserver: a bound service-account token
// minted by the TokenRequest API (audience istio-ca, bound to a pod) maps to the caller's namespace, service
// account, pod and node; tokens that are forged, for another audience, or for a deleted pod are refused.
// Kubernetes 1.20 puts no node-name in the token's extra (added in 1.30), so the node comes from the pod.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metadata } from '@grpc/grpc-js';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ISTIO_CA_AUDIENCE, kubePodLookup, kubeTokenReviewAuthenticator, kubeTokenReviewer, type AuthCall, type Authenticator } from '../../src/auth';
import { createWithStatus, kube, kubeOk, loadHelper, skipReason, type KubeCluster } from './harness';

const SUITE_TIMEOUT_MS = 90_000;
const reason = await skipReason();
if (reason) console.warn(`[token-review.test] SKIPPED: ${reason}`);

function call(token: string): AuthCall {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return { metadata, peer: '127.0.0.1:40000' };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  return p.then(() => 'resolved', (err: unknown) => (err as { code?: string }).code ?? String(err));
}

describe.skipIf(reason !== undefined)('kubeTokenReviewAuthenticator against a real kube-apiserver', () => {
  let cluster: KubeCluster;
  let dir: string;
  let auth: Authenticator;
  let podUid: string;

  /** TokenRequest (serviceaccounts/<sa>/token) bound to a pod, as the kubelet does for projected tokens. */
  async function mintToken(sa: string, audience: string, pod: { name: string; uid: string }): Promise<string> {
    const body = await kubeOk(cluster, 'POST', `/api/v1/namespaces/mk-auth/serviceaccounts/${sa}/token`, {
      apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest',
      spec: { audiences: [audience], expirationSeconds: 600, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: pod.name, uid: pod.uid } },
    });
    return (body['status'] as { token: string }).token;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'istiod-kube-auth-'));
    cluster = await (await loadHelper()).startApiServer({ dir });
    await kubeOk(cluster, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'mk-auth' } });
    await kubeOk(cluster, 'POST', '/api/v1/namespaces/mk-auth/serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'ztunnel' } });
    const pod = await createWithStatus(cluster, {
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name: 'ztunnel-abc', namespace: 'mk-auth' },
      spec: { nodeName: 'node-7', serviceAccountName: 'ztunnel', containers: [{ name: 'z', image: 'registry.invalid/z:1' }] },
    });
    podUid = (pod['metadata'] as { uid: string }).uid;
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    auth = kubeTokenReviewAuthenticator({ review: kubeTokenReviewer(kc), lookupPod: kubePodLookup(kc) });
  }, SUITE_TIMEOUT_MS);

  afterAll(async () => {
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, SUITE_TIMEOUT_MS);

  it('maps a bound istio-ca token to namespace, service account, pod and node', async () => {
    const token = await mintToken('ztunnel', ISTIO_CA_AUDIENCE, { name: 'ztunnel-abc', uid: podUid });
    expect(await auth(call(token))).toEqual({
      namespace: 'mk-auth', serviceAccount: 'ztunnel', podName: 'ztunnel-abc', podUid, nodeName: 'node-7', method: 'kube-token-review',
    });
  });

  it('refuses a forged token, a token for another audience, and one whose pod is gone', async () => {
    expect(await codeOf(auth(call('not-a-jwt')))).toBe('ISTIOD_AUTH_UNAUTHENTICATED');
    const good = await mintToken('ztunnel', ISTIO_CA_AUDIENCE, { name: 'ztunnel-abc', uid: podUid });
    const [h, p] = good.split('.');
    expect(await codeOf(auth(call(`${h}.${p}.${Buffer.from('forged-signature').toString('base64url')}`)))).toBe('ISTIOD_AUTH_UNAUTHENTICATED');
    const otherAudience = await mintToken('ztunnel', 'some-other-api', { name: 'ztunnel-abc', uid: podUid });
    expect(await codeOf(auth(call(otherAudience)))).toBe('ISTIOD_AUTH_UNAUTHENTICATED');
    // The API server itself invalidates a token bound to a pod that no longer exists. No kubelet runs to
    // finish a graceful delete, so delete at once as the kubelet would after the container stopped.
    expect((await kube(cluster, 'DELETE', '/api/v1/namespaces/mk-auth/pods/ztunnel-abc?gracePeriodSeconds=0')).status).toBe(200);
    expect(await codeOf(auth(call(good)))).toBe('ISTIOD_AUTH_UNAUTHENTICATED');
  });
});
