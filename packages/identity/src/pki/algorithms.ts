import type { KeyObject } from 'node:crypto';
import { NULL, oid, seq } from '../der/encode';
import { CaConfigError } from '../errors';

export const OID = {
  ecPublicKey: '1.2.840.10045.2.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  extensionRequest: '1.2.840.113549.1.9.14',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  organization: '2.5.4.10',
} as const;

/** How a key signs: the node:crypto digest and the AlgorithmIdentifier DER put in the certificate. */
export interface SignatureAlgorithm {
  hash: 'sha256' | 'sha384';
  algorithmIdentifier: Buffer;
}

const ECDSA_SHA256: SignatureAlgorithm = { hash: 'sha256', algorithmIdentifier: seq(oid(OID.ecdsaWithSha256)) };
const ECDSA_SHA384: SignatureAlgorithm = { hash: 'sha384', algorithmIdentifier: seq(oid(OID.ecdsaWithSha384)) };
// RSA AlgorithmIdentifiers carry an explicit NULL parameter (RFC 4055).
const RSA_SHA256: SignatureAlgorithm = { hash: 'sha256', algorithmIdentifier: seq(oid(OID.sha256WithRsa), NULL) };

/** The signature algorithm a CA key uses, as Go's x509 picks it (P-256→ES256, P-384→ES384, RSA→SHA256). */
export function signatureAlgorithmFor(key: KeyObject): SignatureAlgorithm {
  if (key.asymmetricKeyType === 'rsa') return RSA_SHA256;
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return ECDSA_SHA256;
    if (curve === 'secp384r1') return ECDSA_SHA384;
  }
  throw new CaConfigError({ reason: `unsupported CA key type ${key.asymmetricKeyType ?? 'unknown'}; use ECDSA P-256/P-384 or RSA` });
}

/** Map a signature AlgorithmIdentifier OID (from a CSR) to the digest node:crypto needs. */
export function hashForSignatureOid(dotted: string): 'sha256' | 'sha384' | undefined {
  if (dotted === OID.ecdsaWithSha256 || dotted === OID.sha256WithRsa) return 'sha256';
  if (dotted === OID.ecdsaWithSha384) return 'sha384';
  return undefined;
}
