import { children, content, expectElement, oidToString, raw, type DerElement } from '../der/decode';
import { DerParseError } from '../errors';
import { OID } from './algorithms';
import { collectSans } from './csr';

/** The pieces of a certificate the CA needs byte-exact (issuer name, key id) plus its SANs. */
export interface CertificateFields {
  subjectDer: Buffer;
  spkiDer: Buffer;
  /** The subjectPublicKey BIT STRING content without the unused-bits byte (RFC 5280 key id input). */
  publicKeyBits: Buffer;
  subjectKeyId: Buffer | undefined;
  uriSans: string[];
  dnsSans: string[];
}

export function parseCertificateDer(der: Buffer): CertificateFields {
  const cert = expectElement(der, 0, 0x30, 'certificate');
  const tbsEl = children(der, cert, 'certificate')[0];
  if (tbsEl === undefined) throw new DerParseError({ what: 'certificate', reason: 'missing TBSCertificate' });
  const tbs = children(der, tbsEl, 'TBSCertificate');
  // [0] version is optional (absent means v1).
  const base = tbs[0]?.tag === 0xa0 ? 1 : 0;
  const subjectEl = tbs[base + 4];
  const spkiEl = tbs[base + 5];
  if (subjectEl === undefined || spkiEl === undefined) throw new DerParseError({ what: 'certificate', reason: 'truncated TBSCertificate' });
  const fields: CertificateFields = {
    subjectDer: Buffer.from(raw(der, subjectEl)),
    spkiDer: Buffer.from(raw(der, spkiEl)),
    publicKeyBits: spkiPublicKeyBits(raw(der, spkiEl)),
    subjectKeyId: undefined,
    uriSans: [],
    dnsSans: [],
  };
  const extsWrapper = tbs.slice(base + 6).find((e) => e.tag === 0xa3);
  if (extsWrapper !== undefined) readExtensions(der, extsWrapper, fields);
  return fields;
}

function readExtensions(der: Buffer, wrapper: DerElement, fields: CertificateFields): void {
  const list = expectElement(der, wrapper.contentStart, 0x30, 'extensions');
  const sans = { uris: fields.uriSans, dns: fields.dnsSans };
  for (const ext of children(der, list, 'extensions')) {
    const parts = children(der, ext, 'extension');
    const id = parts[0] === undefined ? '' : oidToString(content(der, parts[0]));
    if (id === OID.subjectKeyIdentifier) {
      const value = parts[parts.length - 1];
      if (value !== undefined) fields.subjectKeyId = Buffer.from(content(der, expectElement(der, value.contentStart, 0x04, 'SKI')));
    } else if (id === OID.subjectAltName) {
      collectSans(der, ext, sans);
    }
  }
}

/** The subjectPublicKey bits of a DER SubjectPublicKeyInfo (input of the RFC 5280 key identifier). */
export function spkiPublicKeyBits(spki: Buffer): Buffer {
  const keyBits = children(spki, expectElement(spki, 0, 0x30, 'subjectPublicKeyInfo'), 'subjectPublicKeyInfo')[1];
  if (keyBits === undefined || keyBits.tag !== 0x03) throw new DerParseError({ what: 'subjectPublicKeyInfo', reason: 'missing subjectPublicKey' });
  return Buffer.from(content(spki, keyBits).subarray(1));
}
