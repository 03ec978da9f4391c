import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateRsaKey, generateWorkloadKey, privateKeyToPem, publicKeyToSpkiDer } from './keys';

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
});
