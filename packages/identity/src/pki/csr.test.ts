import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { describe, expect, it } from 'vitest';
import { isMeshError } from '@mesh/core';
import { buildCsr, parseCsr } from './csr';
import { generateRsaKey, generateWorkloadKey, publicKeyToSpkiDer } from './keys';

const id = { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'productpage' };

describe('CSR', () => {
  it('builds a CSR that openssl verifies, with empty subject and one critical URI SAN', () => {
    const { privateKey, publicKey } = generateWorkloadKey();
    const pem = buildCsr(id, privateKey, publicKey);
    const dir = mkdtempSync(join(tmpdir(), 'mesh-csr-'));
    try {
      writeFileSync(join(dir, 'req.pem'), pem);
      const out = execFileSync('openssl', ['req', '-in', join(dir, 'req.pem'), '-noout', '-verify', '-text'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      expect(out).toMatch(/Subject:\s*\n/);
      expect(out).toContain('X509v3 Subject Alternative Name: critical');
      expect(out).toContain('URI:spiffe://cluster.local/ns/default/sa/productpage');
      expect(out).toContain('ecdsa-with-SHA256');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is accepted by @peculiar/x509', async () => {
    const { privateKey, publicKey } = generateWorkloadKey();
    const csr = new x509.Pkcs10CertificateRequest(buildCsr(id, privateKey, publicKey));
    expect(await csr.verify()).toBe(true);
    expect(csr.subject).toBe('');
    const san = csr.extensions.find((e) => e.type === '2.5.29.17') as x509.SubjectAlternativeNameExtension | undefined;
    expect(san?.critical).toBe(true);
    expect(san?.names.items.map((n) => n.value)).toEqual(['spiffe://cluster.local/ns/default/sa/productpage']);
  });

  it('parses and verifies its own CSRs and RSA ones', () => {
    for (const keys of [generateWorkloadKey(), generateRsaKey()]) {
      const parsed = parseCsr(buildCsr(id, keys.privateKey, keys.publicKey));
      expect(parsed.uriSans).toEqual(['spiffe://cluster.local/ns/default/sa/productpage']);
      expect(parsed.dnsSans).toEqual([]);
      expect(parsed.spki).toEqual(publicKeyToSpkiDer(keys.publicKey));
      expect(parsed.publicKey.equals(keys.publicKey)).toBe(true);
    }
  });

  it('parses an openssl-made CSR with DNS and URI SANs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mesh-csr-'));
    try {
      const key = join(dir, 'k.pem');
      const req = join(dir, 'r.pem');
      execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key], { stdio: 'ignore' });
      execFileSync('openssl', ['req', '-new', '-key', key, '-out', req, '-subj', '/O=x', '-addext', 'subjectAltName=DNS:a.example,URI:spiffe://td/ns/n/sa/s'], {
        stdio: 'ignore',
      });
      const parsed = parseCsr(execFileSync('cat', [req], { encoding: 'utf8' }));
      expect(parsed.uriSans).toEqual(['spiffe://td/ns/n/sa/s']);
      expect(parsed.dnsSans).toEqual(['a.example']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects a CSR whose signature does not match (tampered SAN)', () => {
    const { privateKey, publicKey } = generateWorkloadKey();
    const pem = buildCsr(id, privateKey, publicKey);
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const at = der.indexOf(Buffer.from('productpage'));
    der[at] = 'P'.charCodeAt(0);
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    expect(() => parseCsr(tampered)).toThrowError(expect.objectContaining({ code: 'IDENTITY_CSR_INVALID' }));
  });

  it('rejects garbage with typed errors', () => {
    for (const bad of ['', 'hello', '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----']) {
      try {
        parseCsr(bad);
        expect.unreachable();
      } catch (err) {
        expect(isMeshError(err)).toBe(true);
      }
    }
  });
});
