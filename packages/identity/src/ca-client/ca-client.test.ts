// The CA client against a minimal in-test CreateCertificate server on loopback (insecure channel).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, Server, ServerCredentials } from '@grpc/grpc-js';
import { addGrpcService, create, IstioCertificateResponseSchema, IstioCertificateService, type IstioCertificateRequest } from '@mesh/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from '../ca/authority';
import { parseCsr } from '../pki/csr';
import { makeIdentity, parseSpiffeId } from '../spiffe/identity';
import { createCaClient } from './ca-client';

const ca = CertificateAuthority.selfSigned();
const seen: { req: IstioCertificateRequest; headers: Record<string, unknown> }[] = [];
let mode: 'honest' | 'wrong-san' = 'honest';
let server: Server;
let port: number;
const dir = mkdtempSync(join(tmpdir(), 'ca-client-'));

beforeAll(async () => {
  server = new Server();
  addGrpcService(server, IstioCertificateService, {
    createCertificate: (call, cb) => {
      seen.push({ req: call.request, headers: call.metadata.getMap() });
      const requested = String(call.request.metadata?.['ImpersonatedIdentity']);
      const identity = mode === 'honest' ? parseSpiffeId(requested) : makeIdentity('cluster.local', 'evil', 'sa');
      const issued = ca.issueWorkloadCert({ identity, publicKey: parseCsr(call.request.csr).publicKey });
      cb(null, create(IstioCertificateResponseSchema, { certChain: issued.certChainPem }));
    },
  });
  port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
});
afterAll(() => {
  server.forceShutdown();
  rmSync(dir, { recursive: true, force: true });
});

describe('createCaClient', () => {
  it('sends a P-256 CSR for the identity, ImpersonatedIdentity, bearer token from the file, clusterid and extra headers', async () => {
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'first\n');
    const c = createCaClient({ address: `127.0.0.1:${port}`, credentials: credentials.createInsecure(), tokenFile, clusterId: 'east', extraHeaders: { 'X-Extra': 'v' } });
    const id = makeIdentity('cluster.local', 'ns1', 'sa1');
    try {
      const got = await c.fetchCertificate(id, { ttlS: 3600 });
      expect(got.rootsPem).toBe(ca.rootCertPem);
      expect(got.certChainPem).toHaveLength(1);
      expect(got.keyPem).toContain('PRIVATE KEY');
      writeFileSync(tokenFile, 'second\n');
      await c.fetchCertificate(id);
    } finally {
      c.close();
    }
    const [a, b] = seen.slice(-2);
    expect(parseCsr(a?.req.csr ?? '').uriSans).toEqual(['spiffe://cluster.local/ns/ns1/sa/sa1']);
    expect(a?.req.validityDuration).toBe(3600n);
    expect(a?.req.metadata).toEqual({ ImpersonatedIdentity: 'spiffe://cluster.local/ns/ns1/sa/sa1' });
    expect(a?.headers).toMatchObject({ authorization: 'Bearer first', clusterid: 'east', 'x-extra': 'v' });
    expect(b?.headers['authorization']).toBe('Bearer second');
    expect(b?.req.validityDuration).toBe(86400n);
  });

  it('rejects a certificate whose SAN is not the requested identity', async () => {
    mode = 'wrong-san';
    const c = createCaClient({ address: `127.0.0.1:${port}`, credentials: credentials.createInsecure(), token: 't' });
    try {
      await expect(c.fetchCertificate(makeIdentity('cluster.local', 'ns1', 'sa1'))).rejects.toMatchObject({ code: 'IDENTITY_CERT_BAD_RESPONSE' });
    } finally {
      c.close();
      mode = 'honest';
    }
  });
});
