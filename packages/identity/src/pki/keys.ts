import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { NULL, bitString, oid, seq, uintBytes } from '../der/encode';

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** A fresh ECDSA P-256 key, what ztunnel generates for every workload certificate. */
export function generateWorkloadKey(): KeyPair {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

/** RSA 2048: what istiod uses for its self-signed root (security/pkg/pki/ca/ca.go). */
export function generateRsaKey(bits = 2048): KeyPair {
  return generateKeyPairSync('rsa', { modulusLength: bits });
}

export function privateKeyToPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

const EC_CURVE_OIDS: Record<string, string> = { 'P-256': '1.2.840.10045.3.1.7', 'P-384': '1.3.132.0.34' };
const EC_ALGORITHM = oid('1.2.840.10045.2.1');
const RSA_ALGORITHM = seq(oid('1.2.840.113549.1.1.1'), NULL);

/**
 * DER SubjectPublicKeyInfo of a public key. Built from the JWK export because, with OpenSSL 3, Node's
 * `export({type: 'spki'})` goes through the slow encoder framework (~6k/s vs ~200k/s for JWK), and
 * the CA does this once per certificate. Other key types fall back to `export`.
 */
export function publicKeyToSpkiDer(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.kty === 'EC' && jwk.crv !== undefined && jwk.x !== undefined && jwk.y !== undefined) {
    const curve = EC_CURVE_OIDS[jwk.crv];
    if (curve !== undefined) {
      const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
      return seq(seq(EC_ALGORITHM, oid(curve)), bitString(point));
    }
  }
  if (jwk.kty === 'RSA' && jwk.n !== undefined && jwk.e !== undefined) {
    const rsaKey = seq(uintBytes(Buffer.from(jwk.n, 'base64url')), uintBytes(Buffer.from(jwk.e, 'base64url')));
    return seq(RSA_ALGORITHM, bitString(rsaKey));
  }
  return key.export({ type: 'spki', format: 'der' });
}

/**
 * The exact DER prefix of a named-curve EC SubjectPublicKeyInfo with an uncompressed point, per curve:
 * SEQUENCE { SEQUENCE { id-ecPublicKey, curve }, BIT STRING (0 unused bits) 0x04 ... }.
 */
const EC_SPKI_PREFIXES: readonly { crv: 'P-256' | 'P-384'; prefix: Buffer; coordBytes: number }[] = [
  { crv: 'P-256', prefix: Buffer.from('3059301306072a8648ce3d020106082a8648ce3d03010703420004', 'hex'), coordBytes: 32 },
  { crv: 'P-384', prefix: Buffer.from('3076301006072a8648ce3d020106052b81040022036200' + '04', 'hex'), coordBytes: 48 },
];

/**
 * Import a DER SubjectPublicKeyInfo. An exact P-256/P-384 SPKI (what every ztunnel CSR carries) goes through
 * the JWK importer: with OpenSSL 3, Node's DER/PEM import runs the generic decoder framework and costs ~3x
 * more, once per certificate on the CA's hot path. The JWK path still checks the point is on the curve.
 * Anything else (RSA, compressed points, explicit parameters) takes the general importer.
 */
export function importSpkiDer(spki: Buffer): KeyObject {
  for (const ec of EC_SPKI_PREFIXES) {
    if (spki.length !== ec.prefix.length + 2 * ec.coordBytes || !spki.subarray(0, ec.prefix.length).equals(ec.prefix)) continue;
    const x = spki.subarray(ec.prefix.length, ec.prefix.length + ec.coordBytes).toString('base64url');
    const y = spki.subarray(ec.prefix.length + ec.coordBytes).toString('base64url');
    return createPublicKey({ key: { kty: 'EC', crv: ec.crv, x, y }, format: 'jwk' });
  }
  return createPublicKey({ key: spki, format: 'der', type: 'spki' });
}
