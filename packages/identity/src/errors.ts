import { defineMeshError } from '@mesh/core';

/** Every error @mesh/identity throws; match on `code`. */

export const SpiffeIdError = defineMeshError(
  'IDENTITY_INVALID_SPIFFE_ID',
  'SpiffeIdError',
  (d: { value: string; reason: string }) =>
    `invalid SPIFFE identity ${JSON.stringify(d.value)}: ${d.reason} (expected spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>)`,
);

export const DerParseError = defineMeshError(
  'IDENTITY_BAD_DER',
  'DerParseError',
  (d: { what: string; reason: string }) => `cannot parse ${d.what}: ${d.reason}`,
);

export const CsrInvalidError = defineMeshError(
  'IDENTITY_CSR_INVALID',
  'CsrInvalidError',
  (d: { reason: string }) => `certificate signing request rejected: ${d.reason}`,
);

export const CaConfigError = defineMeshError(
  'IDENTITY_CA_CONFIG',
  'CaConfigError',
  (d: { reason: string }) =>
    `CA key material is unusable: ${d.reason}; check the cacerts Secret (ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem)`,
);

export const CaTtlError = defineMeshError(
  'IDENTITY_CA_TTL',
  'CaTtlError',
  (d: { requestedMs: number; maxMs: number }) =>
    `requested certificate TTL ${d.requestedMs / 1000}s exceeds the maximum ${d.maxMs / 1000}s (MAX_WORKLOAD_CERT_TTL)`,
);

export const PeerIdentityError = defineMeshError(
  'IDENTITY_PEER_MISMATCH',
  'PeerIdentityError',
  (d: { expected: readonly string[]; actual: readonly string[] }) =>
    `peer certificate identities [${d.actual.join(', ')}] match none of the expected [${d.expected.join(', ')}]; ` +
    `check the destination workload's service account and the Service's subject_alt_names`,
);

export const TrustDomainMismatchError = defineMeshError(
  'IDENTITY_TRUST_DOMAIN_MISMATCH',
  'TrustDomainMismatchError',
  (d: { trustDomain: string; actual: readonly string[] }) =>
    `peer certificate identities [${d.actual.join(', ')}] are not in trust domain ${d.trustDomain}; ` +
    `check that both sides use the same mesh CA and trust domain`,
);

export const CertificateFetchTimeoutError = defineMeshError(
  'IDENTITY_CERT_TIMEOUT',
  'CertificateFetchTimeoutError',
  (d: { identity: string; timeoutMs: number }) =>
    `no certificate for ${d.identity} after ${d.timeoutMs}ms; check that istiod's CA (port 15012) is reachable ` +
    `and that the node's ztunnel is allowed to impersonate this identity (CA_TRUSTED_NODE_ACCOUNTS)`,
);

export const CertificateResponseError = defineMeshError(
  'IDENTITY_CERT_BAD_RESPONSE',
  'CertificateResponseError',
  (d: { identity: string; reason: string }) => `CA returned an unusable certificate for ${d.identity}: ${d.reason}`,
);

export const CertificateManagerClosedError = defineMeshError(
  'IDENTITY_MANAGER_CLOSED',
  'CertificateManagerClosedError',
  (d: { identity: string }) => `certificate manager closed while waiting for ${d.identity}`,
);
