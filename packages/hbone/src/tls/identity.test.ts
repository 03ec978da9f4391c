import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSpiffeId, parseSubjectAltNames, spiffeIdentities, trustDomainVerifier, verifyServerSans } from './identity';

describe('SAN handling', () => {
  it('parses Node subjectaltname strings, including quoted values', () => {
    expect(parseSubjectAltNames('URI:spiffe://td/ns/a/sa/b, DNS:x.y, URI:"spiffe://td/ns/a,b/sa/c"')).toEqual([
      { type: 'URI', value: 'spiffe://td/ns/a/sa/b' },
      { type: 'DNS', value: 'x.y' },
      { type: 'URI', value: 'spiffe://td/ns/a,b/sa/c' },
    ]);
  });

  it('never throws on garbage', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => {
      expect(Array.isArray(parseSubjectAltNames(s))).toBe(true);
    }), { numRuns: 500 });
  });

  it('keeps only parseable SPIFFE identities', () => {
    expect(spiffeIdentities({ subjectaltname: 'URI:https://x, URI:spiffe://cluster.local/ns/n/sa/s' }))
      .toEqual(['spiffe://cluster.local/ns/n/sa/s']);
    expect(parseSpiffeId('spiffe://cluster.local/ns/n')).toBeUndefined();
  });

  it('requires an exact URI SAN match for the server', () => {
    const cert = { subjectaltname: 'URI:spiffe://cluster.local/ns/n/sa/s' };
    expect(verifyServerSans(cert, ['spiffe://cluster.local/ns/n/sa/s'])).toBeUndefined();
    expect(verifyServerSans(cert, ['spiffe://cluster.local/ns/n/sa/s2'])?.code).toBe('HBONE_IDENTITY_MISMATCH');
  });

  it('checks the client trust domain', () => {
    const verify = trustDomainVerifier('cluster.local');
    expect(verify({ identities: ['spiffe://cluster.local/ns/a/sa/b'] })).toBeUndefined();
    expect(verify({ identities: ['spiffe://evil.local/ns/a/sa/b'] })?.code).toBe('HBONE_IDENTITY_MISMATCH');
  });
});
