import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isMeshError } from '@mesh/core';
import {
  formatSpiffeId,
  identityEquals,
  makeIdentity,
  parsePrincipal,
  parseSpiffeId,
  principalMatches,
  toPrincipal,
  tryParseSpiffeId,
} from './identity';

const tdChar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789.-_'.split(''));
const segChar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_'.split(''));
const trustDomain = fc.string({ unit: tdChar, minLength: 1, maxLength: 40 });
const segment = fc.string({ unit: segChar, minLength: 1, maxLength: 40 }).filter((s) => s !== '.' && s !== '..');
const identity = fc.record({ trustDomain, namespace: segment, serviceAccount: segment });

describe('SPIFFE ids', () => {
  it('parses the Istio form', () => {
    expect(parseSpiffeId('spiffe://cluster.local/ns/default/sa/bookinfo-productpage')).toEqual({
      trustDomain: 'cluster.local',
      namespace: 'default',
      serviceAccount: 'bookinfo-productpage',
    });
  });

  it.each([
    ['no scheme', 'cluster.local/ns/a/sa/b'],
    ['other scheme', 'https://cluster.local/ns/a/sa/b'],
    ['upper-case scheme', 'SPIFFE://cluster.local/ns/a/sa/b'],
    ['missing sa', 'spiffe://cluster.local/ns/a'],
    ['wrong keywords', 'spiffe://cluster.local/namespace/a/sa/b'],
    ['extra segment', 'spiffe://cluster.local/ns/a/sa/b/c'],
    ['trailing slash', 'spiffe://cluster.local/ns/a/sa/b/'],
    ['empty ns', 'spiffe://cluster.local/ns//sa/b'],
    ['upper-case trust domain', 'spiffe://Cluster.local/ns/a/sa/b'],
    ['empty trust domain', 'spiffe:///ns/a/sa/b'],
    ['dot-dot segment', 'spiffe://td/ns/../sa/b'],
    ['percent', 'spiffe://td/ns/a%20/sa/b'],
    ['port', 'spiffe://td:8080/ns/a/sa/b'],
  ])('rejects %s', (_why, value) => {
    try {
      parseSpiffeId(value);
      expect.unreachable();
    } catch (err) {
      expect(isMeshError(err, 'IDENTITY_INVALID_SPIFFE_ID')).toBe(true);
      expect((err as Error).message).toContain(JSON.stringify(value));
    }
    expect(tryParseSpiffeId(value)).toBeUndefined();
  });

  it('round-trips format/parse for any valid identity (property)', () => {
    fc.assert(
      fc.property(identity, (id) => {
        const text = formatSpiffeId(id);
        expect(parseSpiffeId(text)).toEqual(id);
        expect(parsePrincipal(toPrincipal(id))).toEqual(id);
        expect(principalMatches(toPrincipal(id), id)).toBe(true);
        expect(principalMatches(text, id)).toBe(true);
      }),
    );
  });

  it('never throws anything but a SpiffeIdError on arbitrary input (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string().map((s) => `spiffe://${s}`)), (s) => {
        try {
          const id = parseSpiffeId(s);
          expect(formatSpiffeId(id)).toBe(s);
        } catch (err) {
          expect(isMeshError(err, 'IDENTITY_INVALID_SPIFFE_ID')).toBe(true);
        }
      }),
    );
  });

  it('equality and principal matching distinguish every field (property)', () => {
    fc.assert(
      fc.property(identity, identity, (a, b) => {
        const same = a.trustDomain === b.trustDomain && a.namespace === b.namespace && a.serviceAccount === b.serviceAccount;
        expect(identityEquals(a, b)).toBe(same);
        expect(principalMatches(toPrincipal(a), b)).toBe(same);
      }),
    );
  });

  it('makeIdentity defaults the trust domain and service account', () => {
    expect(makeIdentity('', 'ns1')).toEqual({ trustDomain: 'cluster.local', namespace: 'ns1', serviceAccount: 'default' });
    expect(() => makeIdentity('td', 'bad/ns', 'sa')).toThrow(/invalid SPIFFE identity/);
  });
});
