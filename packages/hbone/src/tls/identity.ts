import type { PeerCertificate } from 'node:tls';
import { HboneError } from '../errors';

/**
 * Splits Node's `subjectaltname` string (`URI:a, DNS:b`, values JSON-quoted when they hold
 * separators) into entries. Never throws.
 */
export function parseSubjectAltNames(san: string | undefined): Array<{ type: string; value: string }> {
  const out: Array<{ type: string; value: string }> = [];
  if (!san) return out;
  let i = 0;
  while (i < san.length) {
    const colon = san.indexOf(':', i);
    if (colon < 0) break;
    const type = san.slice(i, colon).trim();
    let value: string;
    let next: number;
    if (san[colon + 1] === '"') {
      const end = findClosingQuote(san, colon + 2);
      try {
        value = JSON.parse(san.slice(colon + 1, end + 1)) as string;
      } catch {
        value = san.slice(colon + 2, end);
      }
      next = san.indexOf(', ', end);
    } else {
      next = san.indexOf(', ', colon);
      value = san.slice(colon + 1, next < 0 ? san.length : next);
    }
    out.push({ type, value });
    if (next < 0) break;
    i = next + 2;
  }
  return out;
}

function findClosingQuote(s: string, from: number): number {
  for (let j = from; j < s.length; j++) {
    if (s[j] === '\\') j++;
    else if (s[j] === '"') return j;
  }
  return s.length;
}

/** All URI SANs of a certificate, in certificate order. */
export function uriSans(cert: Pick<PeerCertificate, 'subjectaltname'> | undefined): string[] {
  return parseSubjectAltNames(cert?.subjectaltname)
    .filter((e) => e.type === 'URI')
    .map((e) => e.value);
}

const SPIFFE_RE = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/;

export interface SpiffeId {
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
}

/** Parses `spiffe://<td>/ns/<ns>/sa/<sa>`; undefined otherwise (ztunnel ignores such SANs). */
export function parseSpiffeId(uri: string): SpiffeId | undefined {
  const m = SPIFFE_RE.exec(uri);
  if (!m || !m[1] || !m[2] || !m[3]) return undefined;
  return { trustDomain: m[1], namespace: m[2], serviceAccount: m[3] };
}

/** SPIFFE identities (parseable URI SANs) of a certificate; the first one is the peer identity. */
export function spiffeIdentities(cert: Pick<PeerCertificate, 'subjectaltname'> | undefined): string[] {
  return uriSans(cert).filter((u) => parseSpiffeId(u) !== undefined);
}

/**
 * Client-side check of the server (ztunnel IdentityVerifier): some URI SAN must equal one of
 * the expected identities exactly. Returns an error to fail the handshake, undefined when OK.
 */
export function verifyServerSans(
  cert: Pick<PeerCertificate, 'subjectaltname'>,
  expectedSans: readonly string[],
): HboneError | undefined {
  const got = uriSans(cert);
  if (expectedSans.length === 0 || got.some((san) => expectedSans.includes(san))) return undefined;
  return new HboneError(
    'HBONE_IDENTITY_MISMATCH',
    `HBONE server identity mismatch: certificate URI SANs [${got.join(', ')}] match none of the expected ` +
      `[${expectedSans.join(', ')}]; check the destination workload's service account and Service subjectAltNames`,
  );
}

/**
 * Server-side client check mirroring ztunnel's TrustDomainVerifier: some SPIFFE URI SAN must be
 * in the given trust domain. Which identity may connect is left to authorization.
 */
export function trustDomainVerifier(
  trustDomain: string,
): (peer: { identities: readonly string[] }) => HboneError | undefined {
  return (peer) => {
    if (peer.identities.some((id) => parseSpiffeId(id)?.trustDomain === trustDomain)) return undefined;
    return new HboneError(
      'HBONE_IDENTITY_MISMATCH',
      `HBONE client identities [${peer.identities.join(', ')}] are not in trust domain ${trustDomain}; ` +
        'check the client was issued a certificate by this mesh CA',
    );
  };
}
