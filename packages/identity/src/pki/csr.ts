import { sign, verify, type KeyObject } from 'node:crypto';
import { bitString, bool, explicit, octetString, oid, seq, set, smallInt, tlv, toPem } from '../der/encode';
import { children, content, expectElement, oidToString, pemBlocks, raw, type DerElement } from '../der/decode';
import { CsrInvalidError } from '../errors';
import { formatSpiffeId, type Identity } from '../spiffe/identity';
import { OID, hashForSignatureOid, signatureAlgorithmFor } from './algorithms';
import { importSpkiDer, publicKeyToSpkiDer } from './keys';

const EMPTY_NAME = Buffer.from([0x30, 0x00]);
const GENERAL_NAME_URI = 0x86;
const GENERAL_NAME_DNS = 0x82;

const SAN_OID = oid(OID.subjectAltName);
const CRITICAL = bool(true);

/** SubjectAltName extension with URI names. Critical because the subject is empty (RFC 5280 4.2.1.6). */
export function sanExtension(uris: readonly string[], critical = true): Buffer {
  const names = seq(...uris.map((u) => tlv(GENERAL_NAME_URI, Buffer.from(u, 'utf8'))));
  return critical ? seq(SAN_OID, CRITICAL, octetString(names)) : seq(SAN_OID, octetString(names));
}

/**
 * PKCS#10 request as ztunnel sends it: empty subject, one URI SAN with the SPIFFE id (critical),
 * signed with the request's own key (ECDSA-SHA256 for P-256).
 */
export function buildCsr(identity: Identity, privateKey: KeyObject, publicKey: KeyObject): string {
  const extensions = seq(sanExtension([formatSpiffeId(identity)]));
  const attributes = explicit(0, seq(oid(OID.extensionRequest), set(extensions)));
  const info = seq(smallInt(0), EMPTY_NAME, publicKeyToSpkiDer(publicKey), attributes);
  const alg = signatureAlgorithmFor(privateKey);
  const signature = sign(alg.hash, info, privateKey);
  return toPem('CERTIFICATE REQUEST', seq(info, alg.algorithmIdentifier, bitString(signature)));
}

export interface ParsedCsr {
  /** DER SubjectPublicKeyInfo, ready to copy into a certificate. */
  spki: Buffer;
  publicKey: KeyObject;
  uriSans: string[];
  dnsSans: string[];
}

/** Parse a PEM CSR and check its self-signature (istiod rejects CSRs whose signature does not verify). */
export function parseCsr(pem: string): ParsedCsr {
  const der = pemBlocks(pem, 'CERTIFICATE REQUEST')[0] ?? pemBlocks(pem, 'NEW CERTIFICATE REQUEST')[0];
  if (der === undefined) throw new CsrInvalidError({ reason: 'no "CERTIFICATE REQUEST" PEM block found' });
  const top = children(der, expectElement(der, 0, 0x30, 'CSR'), 'CSR');
  const [infoEl, algEl, sigEl] = top;
  if (infoEl === undefined || algEl === undefined || sigEl === undefined || sigEl.tag !== 0x03) {
    throw new CsrInvalidError({ reason: 'malformed CertificationRequest structure' });
  }
  const info = children(der, infoEl, 'CertificationRequestInfo');
  const spkiEl = info[2];
  if (spkiEl === undefined || spkiEl.tag !== 0x30) throw new CsrInvalidError({ reason: 'missing subjectPublicKeyInfo' });
  const spki = Buffer.from(raw(der, spkiEl));
  const publicKey = importSpki(spki);
  checkSignature(der, infoEl, algEl, sigEl, publicKey);
  const sans = info[3] !== undefined && info[3].tag === 0xa0 ? readRequestedSans(der, info[3]) : { uris: [], dns: [] };
  return { spki, publicKey, uriSans: sans.uris, dnsSans: sans.dns };
}

function importSpki(spki: Buffer): KeyObject {
  try {
    return importSpkiDer(spki);
  } catch (err) {
    throw new CsrInvalidError({ reason: 'public key is not a valid SubjectPublicKeyInfo' }, { cause: err });
  }
}

function checkSignature(der: Buffer, infoEl: DerElement, algEl: DerElement, sigEl: DerElement, key: KeyObject): void {
  const algOid = children(der, algEl, 'signatureAlgorithm')[0];
  const hash = algOid === undefined ? undefined : hashForSignatureOid(oidToString(content(der, algOid)));
  if (hash === undefined) throw new CsrInvalidError({ reason: 'unsupported signature algorithm (want ECDSA or RSA with SHA-256/384)' });
  const sigBits = content(der, sigEl);
  if (sigBits[0] !== 0) throw new CsrInvalidError({ reason: 'signature BIT STRING has unused bits' });
  let ok = false;
  try {
    ok = verify(hash, raw(der, infoEl), key, sigBits.subarray(1));
  } catch (err) {
    throw new CsrInvalidError({ reason: 'signature could not be checked' }, { cause: err });
  }
  if (!ok) throw new CsrInvalidError({ reason: 'signature does not match the public key' });
}

function readRequestedSans(der: Buffer, attrs: DerElement): { uris: string[]; dns: string[] } {
  const out = { uris: [] as string[], dns: [] as string[] };
  for (const attr of children(der, attrs, 'CSR attributes')) {
    const [typeEl, valuesEl] = children(der, attr, 'CSR attribute');
    if (typeEl === undefined || valuesEl === undefined || oidToString(content(der, typeEl)) !== OID.extensionRequest) continue;
    for (const exts of children(der, valuesEl, 'extensionRequest')) {
      for (const ext of children(der, exts, 'extensions')) collectSans(der, ext, out);
    }
  }
  return out;
}

/** Add URI/DNS names from an Extension element if it is a SubjectAltName. Used for CSRs and certificates. */
export function collectSans(der: Buffer, ext: DerElement, out: { uris: string[]; dns: string[] }): void {
  const parts = children(der, ext, 'extension');
  const idEl = parts[0];
  const valueEl = parts[parts.length - 1];
  if (idEl === undefined || valueEl === undefined || oidToString(content(der, idEl)) !== OID.subjectAltName) return;
  const names = expectElement(der, valueEl.contentStart, 0x30, 'GeneralNames');
  for (const name of children(der, names, 'GeneralName')) {
    if (name.tag === GENERAL_NAME_URI) out.uris.push(content(der, name).toString('utf8'));
    else if (name.tag === GENERAL_NAME_DNS) out.dns.push(content(der, name).toString('utf8'));
  }
}
