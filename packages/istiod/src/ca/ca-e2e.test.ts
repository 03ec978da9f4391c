// CA end to end: the identity CA client against CaService over real gRPC + TLS on loopback.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, Metadata, Server, ServerCredentials, status, type ServiceError } from '@grpc/grpc-js';
import { createGrpcClient, IstioCertificateService } from '@mesh/api';
import { createMetricsRegistry, type Registry } from '@mesh/core';
import { createCaClient, makeIdentity, type CaClient, type CertificateAuthority } from '@mesh/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenFileAuthenticator, withClusterCheck } from '../auth';
import { CaService } from './ca-service';
import { directoryCaStore, loadOrCreateSelfSignedCa, loadPluginCa } from './ca-store';
import { InMemoryNodePodIndex } from './node-pod-index';
import { issueServingCert } from './serving-cert';

const TD = 'cluster.local';
const DAY_S = 86_400;
const TOKENS = [
  { token: 'ztunnel-node-1', namespace: 'istio-system', serviceAccount: 'ztunnel', podName: 'ztunnel-a', nodeName: 'node-1' },
  { token: 'app-token', namespace: 'default', serviceAccount: 'app', podName: 'app-1', nodeName: 'node-1' },
];

interface Running {
  port: number;
  root: string;
  registry: Registry;
  server: Server;
}

async function startCa(ca: CertificateAuthority, dir: string): Promise<Running> {
  const tokensPath = join(dir, `tokens-${Math.random()}.yaml`);
  writeFileSync(tokensPath, JSON.stringify(TOKENS));
  const index = new InMemoryNodePodIndex();
  index.upsertPod({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'app-1', namespace: 'default' }, spec: { nodeName: 'node-1', serviceAccountName: 'app', containers: [] }, status: { phase: 'Running' } });
  index.upsertPod({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'far-1', namespace: 'default' }, spec: { nodeName: 'node-2', serviceAccountName: 'far', containers: [] }, status: { phase: 'Running' } });
  const registry = createMetricsRegistry();
  const service = new CaService({
    ca,
    authenticate: withClusterCheck('Kubernetes', tokenFileAuthenticator({ path: tokensPath })),
    nodeIndex: index,
    trustDomain: TD,
    trustedNodeAccounts: ['istio-system/ztunnel'],
    registry,
  });
  const serving = await issueServingCert({ ca, dnsNames: ['istiod.istio-system.svc'], trustDomain: TD, namespace: 'istio-system' });
  const server = new Server();
  service.register(server);
  const creds = ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(serving.certChainPem), private_key: Buffer.from(serving.keyPem) }], false);
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', creds, (e, p) => (e ? rej(e) : res(p))));
  return { port, root: ca.rootCertPem, registry, server };
}

function client(r: Running, token: string, extra: { clusterId?: string } = {}): CaClient {
  return createCaClient({
    address: `127.0.0.1:${r.port}`,
    rootCertPem: r.root,
    serverName: 'istiod.istio-system.svc',
    token,
    clusterId: extra.clusterId ?? 'Kubernetes',
  });
}

function verifyChain(chain: string[], roots: string): X509Certificate[] {
  const certs = chain.map((p) => new X509Certificate(p));
  const root = new X509Certificate(roots);
  const all = [...certs, root];
  for (let i = 0; i + 1 < all.length; i++) {
    const child = all[i] as X509Certificate;
    const parent = all[i + 1] as X509Certificate;
    expect(child.checkIssued(parent)).toBe(true);
    expect(child.verify(parent.publicKey)).toBe(true);
  }
  return certs;
}

async function grpcCode(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as ServiceError;
    return { code: e.code, details: e.details };
  }
  throw new Error('expected the call to fail');
}

const appId = makeIdentity(TD, 'default', 'app');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'istiod-ca-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('CA over gRPC+TLS with a self-signed root', () => {
  let r: Running;
  beforeAll(async () => {
    r = await startCa(await loadOrCreateSelfSignedCa({ store: directoryCaStore(join(dir, 'state')), trustDomain: TD }), dir);
  });
  afterAll(() => r.server.forceShutdown());

  it('issues a chain that verifies against the returned root (node ca impersonating a pod on its node)', async () => {
    const c = client(r, 'ztunnel-node-1');
    try {
      const got = await c.fetchCertificate(appId);
      const [leaf] = verifyChain(got.certChainPem, got.rootsPem);
      expect(leaf?.subjectAltName).toBe('URI:spiffe://cluster.local/ns/default/sa/app');
      expect(got.rootsPem).toBe(r.root);
      expect(leaf?.checkPrivateKey((await import('node:crypto')).createPrivateKey(got.keyPem))).toBe(true);
      // openssl agrees with the chain
      writeFileSync(join(dir, 'root.pem'), got.rootsPem);
      writeFileSync(join(dir, 'leaf.pem'), got.certChainPem[0] as string);
      expect(execFileSync('openssl', ['verify', '-CAfile', join(dir, 'root.pem'), join(dir, 'leaf.pem')]).toString()).toContain('OK');
    } finally {
      c.close();
    }
  });

  it('caps the TTL at 90d and uses 24h for 0', async () => {
    const c = client(r, 'ztunnel-node-1');
    try {
      const lifetime = async (ttlS: number): Promise<number> => {
        const leaf = new X509Certificate((await c.fetchCertificate(appId, { ttlS })).certChainPem[0] as string);
        return (Date.parse(leaf.validTo) - Date.parse(leaf.validFrom)) / 1000;
      };
      expect(await lifetime(100 * DAY_S)).toBe(90 * DAY_S);
      expect(await lifetime(0)).toBe(DAY_S);
      expect(await lifetime(3600)).toBe(3600);
    } finally {
      c.close();
    }
  });

  it('refuses impersonation by an untrusted caller', async () => {
    const c = client(r, 'app-token');
    try {
      const e = await grpcCode(c.fetchCertificate(appId));
      expect(e.code).toBe(status.UNAUTHENTICATED);
      expect(e.details).toContain('CA_TRUSTED_NODE_ACCOUNTS');
    } finally {
      c.close();
    }
  });

  it('refuses impersonation of a pod that is not on the caller node', async () => {
    const c = client(r, 'ztunnel-node-1');
    try {
      const e = await grpcCode(c.fetchCertificate(makeIdentity(TD, 'default', 'far')));
      expect(e.code).toBe(status.UNAUTHENTICATED);
      expect(e.details).toContain('node-1');
    } finally {
      c.close();
    }
  });

  it('refuses a bad token and a foreign clusterid with UNAUTHENTICATED', async () => {
    for (const c of [client(r, 'nope'), client(r, 'ztunnel-node-1', { clusterId: 'other' })]) {
      try {
        expect((await grpcCode(c.fetchCertificate(appId))).code).toBe(status.UNAUTHENTICATED);
      } finally {
        c.close();
      }
    }
    const text = await r.registry.getSingleMetricAsString('citadel_server_authentication_failure_count');
    expect(text).toMatch(/citadel_server_authentication_failure_count [1-9]/);
  });

  it('answers INVALID_ARGUMENT for a CSR that is not PEM or whose signature is wrong', async () => {
    const raw = createGrpcClient(IstioCertificateService, `127.0.0.1:${r.port}`, credentials.createSsl(Buffer.from(r.root)), {
      'grpc.ssl_target_name_override': 'istiod.istio-system.svc',
    });
    const md = new Metadata();
    md.set('authorization', 'Bearer ztunnel-node-1');
    const meta = { ImpersonatedIdentity: 'spiffe://cluster.local/ns/default/sa/app' };
    try {
      const e1 = await grpcCode(raw.createCertificate({ csr: 'garbage', metadata: meta }, { metadata: md }));
      expect(e1.code).toBe(status.INVALID_ARGUMENT);
      expect(e1.details).toContain('CERTIFICATE REQUEST');
      // Take a real CSR and flip a byte of its signature.
      const { buildCsr, generateWorkloadKey } = await import('@mesh/identity');
      const k = generateWorkloadKey();
      const pem = buildCsr(appId, k.privateKey, k.publicKey);
      const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
      der[der.length - 5] = (der[der.length - 5] as number) ^ 0xff;
      const bad = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
      const e2 = await grpcCode(raw.createCertificate({ csr: bad, metadata: meta }, { metadata: md }));
      expect(e2.code).toBe(status.INVALID_ARGUMENT);
      expect(e2.details).toMatch(/signature/);
    } finally {
      raw.close();
    }
    expect(await r.registry.getSingleMetricAsString('citadel_server_success_cert_issuance_count')).toMatch(/ [1-9]/);
  });
});

describe('CA roots', () => {
  it('persists the self-signed root (0600) and reuses it after a restart', async () => {
    const state = join(dir, 'persist');
    const a = await loadOrCreateSelfSignedCa({ store: directoryCaStore(state), trustDomain: TD });
    expect(statSync(join(state, 'ca-key.pem')).mode & 0o777).toBe(0o600);
    const b = await loadOrCreateSelfSignedCa({ store: directoryCaStore(state), trustDomain: TD });
    expect(b.rootCertPem).toBe(a.rootCertPem);
    // a certificate from the restarted CA verifies against the root clients already trust
    const r = await startCa(b, dir);
    const c = client({ ...r, root: a.rootCertPem }, 'ztunnel-node-1');
    try {
      const got = await c.fetchCertificate(appId);
      verifyChain(got.certChainPem, a.rootCertPem);
    } finally {
      c.close();
      r.server.forceShutdown();
    }
  });

  it('serves a plug-in CA from a cacerts dir: chain is leaf, intermediate, root', async () => {
    const cacerts = join(dir, 'cacerts');
    makeOpensslIntermediate(cacerts);
    const ca = loadPluginCa(cacerts);
    const r = await startCa(ca, dir);
    const c = client(r, 'ztunnel-node-1');
    try {
      const got = await c.fetchCertificate(appId);
      expect(got.certChainPem).toHaveLength(2);
      expect(got.rootsPem.trim()).toBe(readFileSync(join(cacerts, 'root-cert.pem'), 'utf8').trim());
      const [, inter] = verifyChain(got.certChainPem, got.rootsPem);
      expect(inter?.subject).toContain('Intermediate');
    } finally {
      c.close();
      r.server.forceShutdown();
    }
  });
});

function makeOpensslIntermediate(out: string): void {
  const run = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  execFileSync('mkdir', ['-p', out]);
  const p = (f: string): string => join(out, f);
  writeFileSync(p('ext.cnf'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\nsubjectKeyIdentifier=hash\n');
  run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', p('root-key.pem'), '-out', p('root-cert.pem'),
    '-days', '30', '-subj', '/O=Test Root CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  run('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', p('ca-key.pem'), '-out', p('ca.csr'), '-subj', '/O=Test Intermediate CA');
  run('x509', '-req', '-in', p('ca.csr'), '-CA', p('root-cert.pem'), '-CAkey', p('root-key.pem'), '-CAcreateserial', '-out', p('ca-cert.pem'),
    '-days', '30', '-extfile', p('ext.cnf'));
  writeFileSync(p('cert-chain.pem'), readFileSync(p('ca-cert.pem'), 'utf8') + readFileSync(p('root-cert.pem'), 'utf8'));
}
