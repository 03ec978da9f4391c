import type { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { PeerIdentityError, TrustDomainMismatchError } from '../errors';
import { parseCertificateDer } from '../pki/certificate-der';
import { formatSpiffeId, identityEquals, tryParseSpiffeId, type Identity } from '../spiffe/identity';

/** A TLS peer certificate (`getPeerCertificate()`) or a parsed X509Certificate; only `raw` DER is read. */
export type CertificateLike = Pick<PeerCertificate, 'raw'> | Pick<X509Certificate, 'raw'>;

/**
 * URI SANs read from the certificate's DER, not from Node's `subjectaltname` string, whose quoting rules
 * for unusual characters changed between Node releases.
 */
export function uriSansOf(cert: CertificateLike): string[] {
  return parseCertificateDer(cert.raw).uriSans;
}

/** SPIFFE identities in the certificate's URI SANs; non-parsable ones are skipped, as ztunnel does. */
export function spiffeIdentitiesOf(cert: CertificateLike): Identity[] {
  const out: Identity[] = [];
  for (const uri of uriSansOf(cert)) {
    const id = tryParseSpiffeId(uri);
    if (id !== undefined) out.push(id);
  }
  return out;
}

/**
 * Client-side check (ztunnel IdentityVerifier): some URI SAN must equal one of the expected identities
 * (destination workload identity + the Service's subject_alt_names). Returns the matching identity.
 */
export function verifyPeerIdentity(cert: CertificateLike, expected: readonly Identity[]): Identity {
  const actual = spiffeIdentitiesOf(cert);
  for (const id of actual) if (expected.some((e) => identityEquals(e, id))) return id;
  throw new PeerIdentityError({ expected: expected.map(formatSpiffeId), actual: uriSansOf(cert) });
}

/**
 * Server-side check (ztunnel TrustDomainVerifier): the client must present an identity in our trust
 * domain; which identity may connect is decided later by authorization policy. Returns that identity.
 */
export function verifySameTrustDomain(cert: CertificateLike, trustDomain: string): Identity {
  const match = spiffeIdentitiesOf(cert).find((id) => id.trustDomain === trustDomain);
  if (match === undefined) throw new TrustDomainMismatchError({ trustDomain, actual: uriSansOf(cert) });
  return match;
}
