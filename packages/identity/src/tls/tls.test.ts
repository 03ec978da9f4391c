import { X509Certificate } from 'node:crypto';
import { connect, createServer, type Server, type TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { CertificateAuthority } from '../ca/authority';
import { generateWorkloadKey, privateKeyToPem } from '../pki/keys';
import type { Identity } from '../spiffe/identity';
import { createWorkloadTlsContext, workloadClientOptions, workloadServerOptions, type WorkloadCredentials } from './context';
import { spiffeIdentitiesOf, uriSansOf, verifyPeerIdentity, verifySameTrustDomain } from './peer';

const ca = CertificateAuthority.selfSigned();
const otherCa = CertificateAuthority.selfSigned();
const id = (namespace: string, serviceAccount: string, trustDomain = 'cluster.local'): Identity => ({ trustDomain, namespace, serviceAccount });
const alice = id('default', 'alice');
const bob = id('default', 'bob');

function credsFor(identity: Identity, authority = ca): WorkloadCredentials {
  const keys = generateWorkloadKey();
  const chain = authority.issueWorkloadCert({ identity, publicKey: keys.publicKey }).certChainPem;
  return { certChainPem: chain.slice(0, -1), keyPem: privateKeyToPem(keys.privateKey), rootsPem: authority.rootCertPem };
}

interface ServerSeen {
  peer?: Identity;
  error?: unknown;
  alpn?: string | false | null;
  protocol?: string | null;
  servername?: string | false | null;
  cipher?: string;
}

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function startServer(creds: WorkloadCredentials, seen: ServerSeen[]): Promise<number> {
  const server = createServer(workloadServerOptions(creds), (sock: TLSSocket) => {
    const entry: ServerSeen = { alpn: sock.alpnProtocol, protocol: sock.getProtocol(), servername: sock.servername, cipher: sock.getCipher().name };
    try {
      entry.peer = verifySameTrustDomain(sock.getPeerCertificate(true), 'cluster.local');
      sock.end('hello');
    } catch (err) {
      entry.error = err;
      sock.destroy();
    }
    seen.push(entry);
  });
  server.on('tlsClientError', () => undefined);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

function dial(port: number, creds: WorkloadCredentials, expected: Identity[], host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port, ...workloadClientOptions(createWorkloadTlsContext(creds), expected) });
    let data = '';
    sock.on('data', (d: Buffer) => (data += d.toString()));
    sock.on('end', () => resolve(data));
    sock.on('error', reject);
    sock.on('close', () => resolve(data));
  });
}

describe('workload mTLS over loopback', () => {
  it('handshakes TLS 1.3 + h2 with no SNI; each side sees the other identity', async () => {
    const seen: ServerSeen[] = [];
    const port = await startServer(credsFor(bob), seen);
    expect(await dial(port, credsFor(alice), [id('x', 'y'), bob], 'localhost')).toBe('hello');
    expect(seen).toEqual([{ peer: alice, alpn: 'h2', protocol: 'TLSv1.3', servername: false, cipher: 'TLS_AES_256_GCM_SHA384' }]);
  });

  it('client rejects a server whose SAN is not expected', async () => {
    const port = await startServer(credsFor(bob), []);
    await expect(dial(port, credsFor(alice), [id('default', 'carol')])).rejects.toMatchObject({ code: 'IDENTITY_PEER_MISMATCH' });
  });

  it('client rejects a server certificate from another CA', async () => {
    const port = await startServer(credsFor(bob, otherCa), []);
    await expect(dial(port, credsFor(alice), [bob])).rejects.toThrow(/certificate/i);
  });

  it('server rejects a client certificate from another CA', async () => {
    const seen: ServerSeen[] = [];
    const port = await startServer(credsFor(bob), seen);
    const got = await dial(port, credsFor(alice, otherCa), [bob]).catch((e: unknown) => e);
    expect(got).not.toBe('hello');
    expect(seen).toEqual([]);
  });

  it('server rejects a client from another trust domain signed by the same root', async () => {
    const seen: ServerSeen[] = [];
    const port = await startServer(credsFor(bob), seen);
    const got = await dial(port, credsFor(id('default', 'alice', 'evil.org')), [bob]).catch((e: unknown) => e);
    expect(got).not.toBe('hello');
    expect(seen[0]?.error).toMatchObject({ code: 'IDENTITY_TRUST_DOMAIN_MISMATCH' });
  });

  it('refuses a TLS 1.2-only client', async () => {
    const port = await startServer(credsFor(bob), []);
    const creds = credsFor(alice);
    const attempt = new Promise<void>((resolve, reject) => {
      const chain = [...creds.certChainPem].join('');
      const sock = connect({ host: '127.0.0.1', port, cert: chain, key: creds.keyPem, ca: creds.rootsPem, maxVersion: 'TLSv1.2', checkServerIdentity: () => undefined });
      sock.on('secureConnect', () => resolve());
      sock.on('error', reject);
    });
    await expect(attempt).rejects.toThrow(/protocol|version/i);
  });

  it('refuses a client that offers only suites ztunnel does not enable', async () => {
    const port = await startServer(credsFor(bob), []);
    const creds = credsFor(alice);
    const attempt = new Promise<void>((resolve, reject) => {
      const sock = connect({
        host: '127.0.0.1',
        port,
        cert: [...creds.certChainPem].join(''),
        key: creds.keyPem,
        ca: creds.rootsPem,
        ciphers: 'TLS_CHACHA20_POLY1305_SHA256',
        checkServerIdentity: () => undefined,
      });
      sock.on('secureConnect', () => resolve());
      sock.on('error', reject);
    });
    await expect(attempt).rejects.toThrow();
  });

  it('the same client handshakes when it allows TLS 1.3 (control for the test above)', async () => {
    const port = await startServer(credsFor(bob), []);
    const creds = credsFor(alice);
    const chain = [...creds.certChainPem].join('');
    const ok = await new Promise<string | null>((resolve, reject) => {
      const sock = connect({ host: '127.0.0.1', port, cert: chain, key: creds.keyPem, ca: creds.rootsPem, checkServerIdentity: () => undefined });
      sock.on('secureConnect', () => {
        resolve(sock.getProtocol());
        sock.destroy();
      });
      sock.on('error', reject);
    });
    expect(ok).toBe('TLSv1.3');
  });
});

describe('peer certificate helpers', () => {
  it('extract SPIFFE identities and skip foreign URIs', () => {
    const leaf = new X509Certificate(credsFor(alice).certChainPem[0] ?? '');
    expect(uriSansOf(leaf)).toEqual(['spiffe://cluster.local/ns/default/sa/alice']);
    expect(spiffeIdentitiesOf(leaf)).toEqual([alice]);
    expect(verifyPeerIdentity(leaf, [bob, alice])).toEqual(alice);
    expect(() => verifyPeerIdentity(leaf, [bob])).toThrowError(expect.objectContaining({ code: 'IDENTITY_PEER_MISMATCH' }));
    expect(verifySameTrustDomain(leaf, 'cluster.local')).toEqual(alice);
    expect(() => verifySameTrustDomain(leaf, 'other')).toThrowError(expect.objectContaining({ code: 'IDENTITY_TRUST_DOMAIN_MISMATCH' }));
    const root = new X509Certificate(ca.rootCertPem);
    expect(spiffeIdentitiesOf(root)).toEqual([]);
  });
});
