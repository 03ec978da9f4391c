// The CA client against a minimal in-test CreateCertificate server on loopback (insecure channel).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, Server, ServerCredentials, status } from '@grpc/grpc-js';
import { addGrpcService, create, IstioCertificateResponseSchema, IstioCertificateService, type IstioCertificateRequest } from '@mesh/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from '../ca/authority';
import { parseCsr } from '../pki/csr';
import { makeIdentity, parseSpiffeId } from '../spiffe/identity';
import { createCaClient, readTokenFile } from './ca-client';

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
      // Like istiod: no bearer token -> UNAUTHENTICATED; no impersonation -> the CSR's own identity.
      if (call.metadata.get('authorization').length === 0) {
        cb({ code: status.UNAUTHENTICATED, details: 'authenticate failure: no bearer token' });
        return;
      }
      const csr = parseCsr(call.request.csr);
      const impersonated = call.request.metadata?.['ImpersonatedIdentity'];
      const requested = impersonated === undefined ? (csr.uriSans[0] ?? '') : String(impersonated);
      const identity = mode === 'honest' ? parseSpiffeId(requested) : makeIdentity('cluster.local', 'evil', 'sa');
      const issued = ca.issueWorkloadCert({ identity, publicKey: csr.publicKey });
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

  it('with impersonate: false sends no ImpersonatedIdentity (a proxy asking for its own identity) and the default TTL', async () => {
    const c = createCaClient({ address: `127.0.0.1:${port}`, credentials: credentials.createInsecure(), token: 't', impersonate: false, requestedTtlS: 600 });
    try {
      const got = await c.fetchCertificate(makeIdentity('cluster.local', 'gw', 'waypoint'));
      expect(got.certChainPem).toHaveLength(1);
    } finally {
      c.close();
    }
    const last = seen[seen.length - 1];
    expect(last?.req.metadata).toEqual({});
    expect(last?.req.validityDuration).toBe(600n);
  });

  it('tolerates a missing token file: no authorization header, so the CA answers UNAUTHENTICATED; a later token is used', async () => {
    const tokenFile = join(dir, 'late-token');
    const c = createCaClient({ address: `127.0.0.1:${port}`, credentials: credentials.createInsecure(), tokenFile, clusterId: 'east' });
    const id = makeIdentity('cluster.local', 'ns1', 'sa1');
    try {
      await expect(c.fetchCertificate(id)).rejects.toMatchObject({ code: status.UNAUTHENTICATED, details: expect.stringContaining('no bearer token') });
      expect(seen[seen.length - 1]?.headers).not.toHaveProperty('authorization');
      writeFileSync(tokenFile, 'mounted\n');
      await c.fetchCertificate(id);
      expect(seen[seen.length - 1]?.headers['authorization']).toBe('Bearer mounted');
    } finally {
      c.close();
    }
  });
});

describe('readTokenFile', () => {
  it('trims the token, and gives undefined for a missing or empty file', () => {
    const file = join(dir, 'rt');
    expect(readTokenFile(file)).toBeUndefined();
    writeFileSync(file, '  \n');
    expect(readTokenFile(file)).toBeUndefined();
    writeFileSync(file, 'jwt\n');
    expect(readTokenFile(file)).toBe('jwt');
  });
});
