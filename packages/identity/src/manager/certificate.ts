import { X509Certificate, type KeyObject } from 'node:crypto';
import { splitPemCertificates } from '../der/decode';
import { CertificateResponseError } from '../errors';
import { formatSpiffeId, type Identity } from '../spiffe/identity';
import { verifyPeerIdentity } from '../tls/peer';

/** A workload's key and certificate as handed to TLS: everything createWorkloadTlsContext needs. */
export interface WorkloadCertificate {
  identity: Identity;
  /** Leaf first, then intermediates (no roots). */
  certChainPem: string[];
  keyPem: string;
  /** Trust anchors from the last element of the CA response. */
  rootsPem: string;
  notBeforeMs: number;
  notAfterMs: number;
}

/**
 * Turn a CA response (leaf first, roots last; an element may hold several PEMs) into a usable certificate,
 * checking what ztunnel checks: the leaf carries the requested identity and matches our key.
 */
export function certificateFromResponse(identity: Identity, chain: readonly string[], key: KeyObject, keyPem: string): WorkloadCertificate {
  const fail = (reason: string, cause?: unknown): never => {
    throw new CertificateResponseError({ identity: formatSpiffeId(identity), reason }, { cause });
  };
  if (chain.length < 2) fail(`expected leaf and root, got ${chain.length} element(s)`);
  const certs = chain.slice(0, -1).flatMap((pem) => splitPemCertificates(pem));
  const rootsPem = chain[chain.length - 1] ?? '';
  if (certs.length === 0 || splitPemCertificates(rootsPem).length === 0) fail('missing leaf or root certificate PEM');
  let leaf: X509Certificate | undefined;
  try {
    leaf = new X509Certificate(certs[0] ?? '');
  } catch (err) {
    fail('leaf certificate does not parse', err);
  }
  if (leaf === undefined) return fail('leaf certificate does not parse');
  if (!leaf.checkPrivateKey(key)) fail('leaf certificate is not for the key we sent');
  try {
    verifyPeerIdentity(leaf, [identity]);
  } catch (err) {
    fail(`leaf SAN is ${leaf.subjectAltName ?? 'empty'}, not the requested identity`, err);
  }
  return {
    identity,
    certChainPem: certs,
    keyPem,
    rootsPem,
    notBeforeMs: new Date(leaf.validFrom).getTime(),
    notAfterMs: new Date(leaf.validTo).getTime(),
  };
}
