import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metadata } from '@grpc/grpc-js';
import { afterAll, describe, expect, it } from 'vitest';
import { withClusterCheck } from './bearer';
import { kubeTokenReviewAuthenticator, type TokenReviewStatus } from './kube-token-review';
import { tokenFileAuthenticator } from './token-file';
import { xdsAuthenticatorOf } from './xds-adapter';
import type { AuthCall } from './types';

const dir = mkdtempSync(join(tmpdir(), 'istiod-auth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function call(headers: Record<string, string>): AuthCall {
  const metadata = new Metadata();
  for (const [k, v] of Object.entries(headers)) metadata.set(k, v);
  return { metadata, peer: '127.0.0.1:5555' };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as { code: string }).code;
  }
  return 'resolved';
}

describe('tokenFileAuthenticator', () => {
  it('maps a token to its caller, accepts YAML {tokens: [...]}, and rejects unknown/missing tokens', async () => {
    const path = join(dir, 'tokens.yaml');
    writeFileSync(path, 'tokens:\n- {token: t1, namespace: istio-system, serviceAccount: ztunnel, podName: z1, nodeName: n1}\n');
    const auth = tokenFileAuthenticator({ path });
    expect(await auth(call({ authorization: 'Bearer t1' }))).toEqual({
      namespace: 'istio-system', serviceAccount: 'ztunnel', podName: 'z1', nodeName: 'n1', method: 'token-file',
    });
    expect(await codeOf(auth(call({ authorization: 'Bearer t2' })))).toBe('ISTIOD_AUTH_UNAUTHENTICATED');
    expect(await codeOf(auth(call({})))).toBe('ISTIOD_AUTH_UNAUTHENTICATED');
    expect(await codeOf(auth(call({ authorization: 'Basic t1' })))).toBe('ISTIOD_AUTH_UNAUTHENTICATED');
  });

  it('picks up edits and keeps the old tokens when an edit is broken', async () => {
    const path = join(dir, 'tokens.json');
    writeFileSync(path, JSON.stringify([{ token: 'a', namespace: 'ns', serviceAccount: 'sa' }]));
    const auth = tokenFileAuthenticator({ path });
    writeFileSync(path, JSON.stringify([{ token: 'bb', namespace: 'ns', serviceAccount: 'sa2' }]));
    expect((await auth(call({ authorization: 'Bearer bb' }))).serviceAccount).toBe('sa2');
    expect(await codeOf(auth(call({ authorization: 'Bearer a' })))).toBe('ISTIOD_AUTH_UNAUTHENTICATED');
    writeFileSync(path, '[{"token": ');
    expect((await auth(call({ authorization: 'bearer bb' }))).serviceAccount).toBe('sa2');
  });

  it('fails fast on a file with a bad entry, naming what is wrong', () => {
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, '- {token: x, namespace: ns}\n');
    expect(() => tokenFileAuthenticator({ path })).toThrow(/entry 0 has no "serviceAccount"/);
  });
});

describe('withClusterCheck', () => {
  const inner = async () => ({ namespace: 'ns', serviceAccount: 'sa', method: 'test' });
  it('accepts the local cluster or no header, refuses another cluster', async () => {
    const auth = withClusterCheck('east', inner);
    expect((await auth(call({ clusterid: 'east' }))).serviceAccount).toBe('sa');
    expect((await auth(call({}))).serviceAccount).toBe('sa');
    expect(await codeOf(auth(call({ clusterid: 'west' })))).toBe('ISTIOD_AUTH_UNAUTHENTICATED');
  });
});

describe('kubeTokenReviewAuthenticator', () => {
  const ok: TokenReviewStatus = {
    authenticated: true,
    audiences: ['istio-ca'],
    user: {
      username: 'system:serviceaccount:istio-system:ztunnel',
      extra: { 'authentication.kubernetes.io/pod-name': ['ztunnel-x'], 'authentication.kubernetes.io/pod-uid': ['uid-1'] },
    },
  };

  it('sends the bearer token with audience istio-ca and maps SA, pod and (via the pod) node', async () => {
    const seen: { token: string; audiences: readonly string[] }[] = [];
    const auth = kubeTokenReviewAuthenticator({
      review: async (token, audiences) => (seen.push({ token, audiences }), ok),
      lookupPod: async (ns, name) => (ns === 'istio-system' && name === 'ztunnel-x' ? { uid: 'uid-1', nodeName: 'node-7', serviceAccount: 'ztunnel' } : undefined),
    });
    expect(await auth(call({ authorization: 'Bearer jwt' }))).toEqual({
      namespace: 'istio-system', serviceAccount: 'ztunnel', podName: 'ztunnel-x', podUid: 'uid-1', nodeName: 'node-7', method: 'kube-token-review',
    });
    expect(seen).toEqual([{ token: 'jwt', audiences: ['istio-ca'] }]);
  });

  it('uses the node-name extra when present (no pod lookup needed)', async () => {
    const withNode = { ...ok, user: { ...ok.user, extra: { ...ok.user?.extra, 'authentication.kubernetes.io/node-name': ['node-9'] } } };
    const auth = kubeTokenReviewAuthenticator({ review: async () => withNode, lookupPod: async () => { throw new Error('not called'); } });
    expect((await auth(call({ authorization: 'Bearer jwt' }))).nodeName).toBe('node-9');
  });

  it.each<[string, TokenReviewStatus]>([
    ['unauthenticated', { authenticated: false, error: 'expired' }],
    ['a user that is not a service account', { authenticated: true, user: { username: 'alice' } }],
    ['a wrong audience', { ...ok, audiences: ['kubernetes'] }],
  ])('refuses %s', async (_name, status) => {
    const auth = kubeTokenReviewAuthenticator({ review: async () => status });
    expect(await codeOf(auth(call({ authorization: 'Bearer jwt' })))).toBe('ISTIOD_AUTH_UNAUTHENTICATED');
  });

  it('refuses a token whose pod uid does not match the live pod, and a failing TokenReview call', async () => {
    const auth = kubeTokenReviewAuthenticator({ review: async () => ok, lookupPod: async () => ({ uid: 'other', nodeName: 'n' }) });
    expect(await codeOf(auth(call({ authorization: 'Bearer jwt' })))).toBe('ISTIOD_AUTH_UNAUTHENTICATED');
    const broken = kubeTokenReviewAuthenticator({ review: async () => { throw new Error('connection refused'); } });
    expect(await codeOf(broken(call({ authorization: 'Bearer jwt' })))).toBe('ISTIOD_AUTH_UNAUTHENTICATED');
  });
});

describe('xdsAuthenticatorOf', () => {
  it('gives the xDS server the caller SPIFFE id', async () => {
    const x = xdsAuthenticatorOf(async () => ({ namespace: 'istio-system', serviceAccount: 'ztunnel', method: 'token-file' }), 'cluster.local');
    const p = await x({ metadata: new Metadata(), peer: 'p', peerCertificate: undefined });
    expect(p).toEqual({ identity: 'spiffe://cluster.local/ns/istio-system/sa/ztunnel', method: 'token-file' });
  });
});
