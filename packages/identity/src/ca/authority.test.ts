import { X509Certificate } from 'node:crypto';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { describe, expect, it } from 'vitest';
import { isMeshError } from '@mesh/core';
import { CertificateAuthority, createCaCertificateDer } from './authority';
import { buildCsr } from '../pki/csr';
import { generateWorkloadKey, privateKeyToPem } from '../pki/keys';
import { toPem } from '../der/encode';
import { opensslPluginCa, opensslText, opensslVerify } from '../../test/openssl';

const alice = { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'alice' };
const bob = { trustDomain: 'cluster.local', namespace: 'other', serviceAccount: 'bob' };
const HOUR_MS = 3_600_000;

const ecCa = CertificateAuthority.selfSigned();

function issueFor(ca: CertificateAuthority, id = alice, ttlMs = HOUR_MS): string[] {
  const keys = generateWorkloadKey();
  return ca.issueWorkloadCert({ identity: id, csrPem: buildCsr(id, keys.privateKey, keys.publicKey), ttlMs }).certChainPem;
}

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
    expect.unreachable();
  } catch (err) {
    expect(isMeshError(err, code), String(err)).toBe(true);
  }
}

describe('CertificateAuthority (self-signed)', () => {
  it('issues [leaf, root] that node:crypto parses and verifies', () => {
    const chain = issueFor(ecCa);
    expect(chain).toHaveLength(2);
    expect(chain[1]).toBe(ecCa.rootCertPem);
    const leaf = new X509Certificate(chain[0] ?? '');
    const root = new X509Certificate(ecCa.rootCertPem);
    expect(leaf.subject ?? '').toBe(''); // node reports an empty subject as undefined
    expect(leaf.subjectAltName).toBe('URI:spiffe://cluster.local/ns/default/sa/alice');
    expect(leaf.ca).toBe(false);
    expect(leaf.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    expect(leaf.checkIssued(root)).toBe(true);
    expect(leaf.verify(root.publicKey)).toBe(true);
    expect(root.subject).toBe('O=cluster.local');
    expect(root.ca).toBe(true);
  });

  it('openssl verifies the chain for client and server use and sees the Istio extensions', () => {
    const chain = issueFor(ecCa);
    expect(opensslVerify(ecCa.rootCertPem, chain, 'sslclient')).toMatchObject({ ok: true });
    expect(opensslVerify(ecCa.rootCertPem, chain, 'sslserver')).toMatchObject({ ok: true });
    const text = opensslText(chain[0] ?? '');
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment/);
    expect(text).toMatch(/X509v3 Extended Key Usage:\s+TLS Web Server Authentication, TLS Web Client Authentication/);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
    expect(text).toMatch(/X509v3 Subject Alternative Name: critical\s+URI:spiffe:\/\/cluster.local\/ns\/default\/sa\/alice/);
    expect(text).toContain('X509v3 Authority Key Identifier');
    expect(text).toContain('ecdsa-with-SHA256');
  });

  it('openssl rejects the leaf against a different root', () => {
    const other = CertificateAuthority.selfSigned();
    expect(opensslVerify(other.rootCertPem, issueFor(ecCa)).ok).toBe(false);
  });

  it('is accepted by @peculiar/x509 (checkIssued/verify)', async () => {
    const chain = issueFor(ecCa);
    const leaf = new x509.X509Certificate(chain[0] ?? '');
    const root = new x509.X509Certificate(ecCa.rootCertPem);
    expect(await leaf.verify({ publicKey: root.publicKey, date: new Date() })).toBe(true);
    expect(await leaf.isSelfSigned()).toBe(false);
    const san = leaf.extensions.find((e) => e.type === '2.5.29.17') as x509.SubjectAlternativeNameExtension;
    expect(san.critical).toBe(true);
    expect(san.names.items.map((n) => n.value)).toEqual(['spiffe://cluster.local/ns/default/sa/alice']);
    const aki = leaf.extensions.find((e) => e.type === '2.5.29.35') as x509.AuthorityKeyIdentifierExtension;
    const ski = root.extensions.find((e) => e.type === '2.5.29.14') as x509.SubjectKeyIdentifierExtension;
    expect(aki.keyId).toBe(ski.keyId);
  });

  it('puts the requested identity in the SAN, ignoring the CSR SANs (impersonation)', () => {
    const keys = generateWorkloadKey();
    const { certChainPem } = ecCa.issueWorkloadCert({ identity: bob, csrPem: buildCsr(alice, keys.privateKey, keys.publicKey) });
    const leaf = new X509Certificate(certChainPem[0] ?? '');
    expect(leaf.subjectAltName).toBe('URI:spiffe://cluster.local/ns/other/sa/bob');
    expect(leaf.publicKey.equals(keys.publicKey)).toBe(true);
  });

  it('accepts a public key instead of a CSR', () => {
    const keys = generateWorkloadKey();
    const { certChainPem } = ecCa.issueWorkloadCert({ identity: alice, publicKey: keys.publicKey });
    expect(new X509Certificate(certChainPem[0] ?? '').checkPrivateKey(keys.privateKey)).toBe(true);
    expectCode(() => ecCa.issueWorkloadCert({ identity: alice }), 'IDENTITY_CSR_INVALID');
  });

  it('applies validity: now to now+ttl, default 24h, refuses over the max', () => {
    const now = Date.UTC(2030, 5, 1, 12, 0, 0, 700);
    const keys = generateWorkloadKey();
    const r = ecCa.issueWorkloadCert({ identity: alice, publicKey: keys.publicKey, ttlMs: 2 * HOUR_MS, now });
    expect(r.notBeforeMs).toBe(Date.UTC(2030, 5, 1, 12, 0, 0));
    expect(r.notAfterMs - r.notBeforeMs).toBe(2 * HOUR_MS);
    const leaf = new X509Certificate(r.certChainPem[0] ?? '');
    expect(new Date(leaf.validFrom).getTime()).toBe(r.notBeforeMs);
    expect(new Date(leaf.validTo).getTime()).toBe(r.notAfterMs);
    const d = ecCa.issueWorkloadCert({ identity: alice, publicKey: keys.publicKey, ttlMs: 0, now });
    expect(d.notAfterMs - d.notBeforeMs).toBe(24 * HOUR_MS);
    expectCode(() => ecCa.issueWorkloadCert({ identity: alice, publicKey: keys.publicKey, ttlMs: 91 * 24 * HOUR_MS }), 'IDENTITY_CA_TTL');
  });

  it('uses GeneralizedTime after 2049 and openssl still parses it', () => {
    const keys = generateWorkloadKey();
    const r = ecCa.issueWorkloadCert({ identity: alice, publicKey: keys.publicKey, ttlMs: 48 * HOUR_MS, now: Date.UTC(2049, 11, 31) });
    expect(opensslText(r.certChainPem[0] ?? '')).toContain('Not After : Jan  2 00:00:00 2050 GMT');
  });

  it('gives unique positive 16-byte serials', () => {
    const keys = generateWorkloadKey();
    const serials = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const leaf = new X509Certificate(ecCa.issueWorkloadCert({ identity: alice, publicKey: keys.publicKey }).certChainPem[0] ?? '');
      expect(leaf.serialNumber).toMatch(/^[0-7][0-9A-F]{31}$/);
      serials.add(leaf.serialNumber);
    }
    expect(serials.size).toBe(300);
  });

  it('supports an RSA 2048 root like istiod self-signed mode', () => {
    const rsa = CertificateAuthority.selfSigned({ keyAlgorithm: 'rsa-2048', organization: 'example.org' });
    const chain = issueFor(rsa);
    expect(opensslVerify(rsa.rootCertPem, chain, 'sslclient')).toMatchObject({ ok: true });
    expect(opensslText(chain[0] ?? '')).toContain('sha256WithRSAEncryption');
    expect(new X509Certificate(rsa.rootCertPem).subject).toBe('O=example.org');
  });

  it('round-trips through its own PEMs (persisted self-signed CA, istio-ca-secret)', () => {
    const again = CertificateAuthority.fromPem({ caCertPem: ecCa.caCertPem, caKeyPem: ecCa.caKeyPem, rootCertPem: ecCa.rootCertPem });
    const chain = issueFor(again);
    expect(chain).toHaveLength(2);
    expect(opensslVerify(ecCa.rootCertPem, chain).ok).toBe(true);
  });
});

describe('CertificateAuthority (plug-in)', () => {
  it('issues under an openssl-made intermediate: [leaf, intermediate, root]', () => {
    const pems = opensslPluginCa();
    const ca = CertificateAuthority.fromPem({ ...pems, certChainPem: pems.caCertPem + pems.rootCertPem });
    const chain = issueFor(ca);
    expect(chain).toHaveLength(3);
    expect(new X509Certificate(chain[1] ?? '').raw).toEqual(new X509Certificate(pems.caCertPem).raw);
    expect(new X509Certificate(chain[2] ?? '').raw).toEqual(new X509Certificate(pems.rootCertPem).raw);
    expect(opensslVerify(pems.rootCertPem, chain, 'sslserver')).toMatchObject({ ok: true });
    const leaf = new X509Certificate(chain[0] ?? '');
    expect(leaf.issuer).toBe(new X509Certificate(pems.caCertPem).subject);
  });

  it('works with a two-level chain built by createCaCertificateDer and an empty cert-chain.pem', () => {
    const rootKeys = generateWorkloadKey();
    const now = Date.now();
    const rootPem = toPem('CERTIFICATE', createCaCertificateDer({ organization: 'root', publicKey: rootKeys.publicKey, notBeforeMs: now, notAfterMs: now + 1e9, signer: { key: rootKeys.privateKey } }));
    const midKeys = generateWorkloadKey();
    const midPem = toPem('CERTIFICATE', createCaCertificateDer({ organization: 'mid', publicKey: midKeys.publicKey, notBeforeMs: now, notAfterMs: now + 1e9, signer: { key: rootKeys.privateKey, certPem: rootPem } }));
    const ca = CertificateAuthority.fromPem({ caCertPem: midPem, caKeyPem: privateKeyToPem(midKeys.privateKey), rootCertPem: rootPem });
    const chain = issueFor(ca);
    expect(chain).toHaveLength(3);
    expect(opensslVerify(rootPem, chain, 'sslclient')).toMatchObject({ ok: true });
  });

  it('rejects a key that does not match, a non-CA cert, and a chain that misses the root', () => {
    const pems = opensslPluginCa();
    const other = CertificateAuthority.selfSigned();
    expectCode(() => CertificateAuthority.fromPem({ ...pems, caKeyPem: other.caKeyPem }), 'IDENTITY_CA_CONFIG');
    expectCode(() => CertificateAuthority.fromPem({ ...pems, rootCertPem: other.rootCertPem }), 'IDENTITY_CA_CONFIG');
    const keys = generateWorkloadKey();
    const leafPem = ecCa.issueWorkloadCert({ identity: alice, publicKey: keys.publicKey }).certChainPem[0] ?? '';
    expectCode(
      () => CertificateAuthority.fromPem({ caCertPem: leafPem, caKeyPem: privateKeyToPem(keys.privateKey), rootCertPem: ecCa.rootCertPem }),
      'IDENTITY_CA_CONFIG',
    );
    expectCode(() => CertificateAuthority.fromPem({ ...pems, caKeyPem: 'nope' }), 'IDENTITY_CA_CONFIG');
  });
});
