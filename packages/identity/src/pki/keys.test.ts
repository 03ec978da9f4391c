import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateRsaKey, generateWorkloadKey, importSpkiDer, privateKeyToPem, publicKeyToSpkiDer } from './keys';

describe('keys', () => {
  it('generates P-256 keys and PKCS#8 PEM', () => {
    const k = generateWorkloadKey();
    expect(k.privateKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(privateKeyToPem(k.privateKey)).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
  });

  it('hand-built SPKI equals OpenSSL export for P-256, P-384, RSA and the fallback', () => {
    const keys = [
      generateWorkloadKey().publicKey,
      generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey,
      generateRsaKey(2048).publicKey,
      generateKeyPairSync('rsa', { modulusLength: 1024, publicExponent: 3 }).publicKey,
      generateKeyPairSync('ed25519').publicKey,
    ];
    for (const key of keys) expect(publicKeyToSpkiDer(key)).toEqual(key.export({ type: 'spki', format: 'der' }));
  });

  it('imports SPKI DER to the same key on the P-256/P-384 fast path and the general path', () => {
    const keys = [
      generateWorkloadKey().publicKey,
      generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey,
      generateRsaKey(2048).publicKey,
      generateKeyPairSync('ed25519').publicKey,
    ];
    for (const key of keys) expect(importSpkiDer(key.export({ type: 'spki', format: 'der' })).equals(key)).toBe(true);
  });

  it('refuses a P-256 SPKI whose point is not on the curve', () => {
    const spki = Buffer.from(generateWorkloadKey().publicKey.export({ type: 'spki', format: 'der' }));
    spki[spki.length - 1] = (spki[spki.length - 1] ?? 0) ^ 0x01; // flip one bit of y
    expect(() => importSpkiDer(spki)).toThrow();
  });
});
