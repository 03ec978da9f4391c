import { describe, expect, it } from 'vitest';
import { isMeshError } from '@mesh/core';
import { children, expectElement, oidToString, pemBlocks, readElement, splitPemCertificates } from './decode';
import { lengthBytes, oid, seq, toPem, uintBytes, x509Time } from './encode';

describe('DER encode/decode', () => {
  it('encodes lengths in short and long form', () => {
    expect(lengthBytes(5)).toEqual(Buffer.from([5]));
    expect(lengthBytes(200)).toEqual(Buffer.from([0x81, 200]));
    expect(lengthBytes(0x1234)).toEqual(Buffer.from([0x82, 0x12, 0x34]));
    expect(lengthBytes(0x123456)).toEqual(Buffer.from([0x83, 0x12, 0x34, 0x56]));
  });

  it('encodes minimal positive integers', () => {
    expect(uintBytes(Buffer.from([0, 0, 5]))).toEqual(Buffer.from([2, 1, 5]));
    expect(uintBytes(Buffer.from([0x80]))).toEqual(Buffer.from([2, 2, 0, 0x80]));
    expect(uintBytes(Buffer.from([0]))).toEqual(Buffer.from([2, 1, 0]));
  });

  it('round-trips OIDs', () => {
    for (const o of ['2.5.29.17', '1.2.840.10045.4.3.2', '1.3.6.1.5.5.7.3.1', '1.2.840.113549.1.9.14']) {
      const der = oid(o);
      expect(oidToString(der.subarray(2))).toBe(o);
    }
    expect(oid('1.2.840.10045.2.1').toString('hex')).toBe('06072a8648ce3d0201');
  });

  it('chooses UTCTime before 2050 and GeneralizedTime after', () => {
    expect(x509Time(Date.UTC(2025, 0, 2, 3, 4, 5)).toString('latin1', 2)).toBe('250102030405Z');
    expect(x509Time(Date.UTC(2025, 0, 2, 3, 4, 5))[0]).toBe(0x17);
    const far = x509Time(Date.UTC(2051, 11, 31, 23, 59, 59));
    expect(far[0]).toBe(0x18);
    expect(far.toString('latin1', 2)).toBe('20511231235959Z');
  });

  it('walks nested elements, including long lengths', () => {
    const big = Buffer.alloc(300, 7);
    const der = seq(seq(uintBytes(Buffer.from([1]))), Buffer.concat([Buffer.from([0x04, 0x82, 0x01, 0x2c]), big]));
    const top = expectElement(der, 0, 0x30, 'test');
    const kids = children(der, top, 'test');
    expect(kids.map((k) => k.tag)).toEqual([0x30, 0x04]);
    expect((kids[1]?.end ?? 0) - (kids[1]?.contentStart ?? 0)).toBe(300);
  });

  it('rejects truncated input with a typed error', () => {
    try {
      readElement(Buffer.from([0x30, 0x05, 0x01]), 0, 'thing');
      expect.unreachable();
    } catch (err) {
      expect(isMeshError(err, 'IDENTITY_BAD_DER')).toBe(true);
    }
  });

  it('writes and reads PEM', () => {
    const der = Buffer.alloc(100, 1);
    const pem = toPem('CERTIFICATE', der);
    expect(pem.split('\n')[1]).toHaveLength(64);
    expect(pemBlocks(pem + pem, 'CERTIFICATE')).toEqual([der, der]);
    expect(splitPemCertificates(`junk\n${pem}${pem}`)).toEqual([pem, pem]);
  });
});
