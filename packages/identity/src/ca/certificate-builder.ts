import { createHash, randomFillSync, sign, type KeyObject } from 'node:crypto';
import { bitString, bool, explicit, octetString, oid, seq, set, directoryString, tlv, x509Time } from '../der/encode';
import { OID, type SignatureAlgorithm } from '../pki/algorithms';

/** v3: [0] EXPLICIT INTEGER 2. */
export const VERSION_V3 = explicit(0, Buffer.from([0x02, 0x01, 0x02]));
export const EMPTY_NAME = Buffer.from([0x30, 0x00]);
const SERIAL_BYTES = 16;
/** Serials are cut from one pool refilled per 256 certificates: one CSPRNG call instead of one per certificate. */
const SERIAL_POOL_BYTES = SERIAL_BYTES * 256;
const serialPool = Buffer.alloc(SERIAL_POOL_BYTES);
let serialPoolOffset = SERIAL_POOL_BYTES;

/** A Name with a single O= attribute, how istiod names its self-signed root (O=<trust domain>). */
export function organizationName(org: string): Buffer {
  return seq(set(seq(oid(OID.organization), directoryString(org))));
}

/** 16 random bytes as a positive, minimally encoded INTEGER (RFC 5280: positive, at most 20 octets). */
export function randomSerial(): Buffer {
  if (serialPoolOffset === SERIAL_POOL_BYTES) {
    randomFillSync(serialPool);
    serialPoolOffset = 0;
  }
  const serial = Buffer.from(serialPool.subarray(serialPoolOffset, serialPoolOffset + SERIAL_BYTES));
  serialPoolOffset += SERIAL_BYTES;
  // Clear the sign bit; a zero first byte would make the encoding non-minimal, which Go rejects.
  serial[0] = (serial[0] ?? 0) & 0x7f || 0x01;
  return Buffer.concat([Buffer.from([0x02, SERIAL_BYTES]), serial]);
}

/** RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits (what Go's x509 uses). */
export function keyIdentifier(publicKeyBits: Buffer): Buffer {
  return createHash('sha1').update(publicKeyBits).digest();
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? seq(oid(id), bool(true), octetString(value)) : seq(oid(id), octetString(value));
}

/** keyUsage bits are numbered from the most significant bit of the first byte. */
const KU_DIGITAL_SIGNATURE = 0x80;
const KU_KEY_ENCIPHERMENT = 0x20;
const KU_KEY_CERT_SIGN = 0x04;
const KU_CRL_SIGN = 0x02;

/** The extensions istiod puts on workload certificates, minus the per-certificate SAN (and in the same order). */
export function workloadStaticExtensions(authorityKeyId: Buffer): Buffer {
  return Buffer.concat([
    // digitalSignature + keyEncipherment, critical; 5 unused bits in the last byte.
    extension('2.5.29.15', true, tlv(0x03, Buffer.from([5, KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT]))),
    extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'), oid('1.3.6.1.5.5.7.3.2'))),
    extension('2.5.29.19', true, seq()),
    extension('2.5.29.35', false, seq(tlv(0x80, authorityKeyId))),
  ]);
}

/** Extensions of a CA certificate: keyUsage certSign+cRLSign+digitalSignature, CA:true, SKI, and AKI if not self-signed. */
export function caExtensions(subjectKeyId: Buffer, authorityKeyId: Buffer | undefined): Buffer {
  const parts = [
    extension('2.5.29.15', true, tlv(0x03, Buffer.from([1, KU_DIGITAL_SIGNATURE | KU_KEY_CERT_SIGN | KU_CRL_SIGN]))),
    extension('2.5.29.19', true, seq(bool(true))),
    extension(OID.subjectKeyIdentifier, false, octetString(subjectKeyId)),
  ];
  if (authorityKeyId !== undefined) parts.push(extension('2.5.29.35', false, seq(tlv(0x80, authorityKeyId))));
  return Buffer.concat(parts);
}

export function validity(notBeforeMs: number, notAfterMs: number): Buffer {
  return seq(x509Time(notBeforeMs), x509Time(notAfterMs));
}

export interface TbsFields {
  serial: Buffer;
  algorithm: SignatureAlgorithm;
  issuer: Buffer;
  validity: Buffer;
  subject: Buffer;
  spki: Buffer;
  /** Concatenated Extension elements (already DER). */
  extensions: Buffer;
}

/** Encode TBSCertificate and sign it into a DER Certificate. */
export function signCertificate(f: TbsFields, key: KeyObject): Buffer {
  const tbs = seq(VERSION_V3, f.serial, f.algorithm.algorithmIdentifier, f.issuer, f.validity, f.subject, f.spki, explicit(3, seq(f.extensions)));
  const signature = sign(f.algorithm.hash, tbs, key);
  return seq(tbs, f.algorithm.algorithmIdentifier, bitString(signature));
}
