export * from './spiffe';
export * from './pki';
export * from './ca';
export {
  SpiffeIdError,
  DerParseError,
  CsrInvalidError,
  CaConfigError,
  CaTtlError,
  PeerIdentityError,
  TrustDomainMismatchError,
  CertificateFetchTimeoutError,
  CertificateResponseError,
  CertificateManagerClosedError,
} from './errors';
export * from './tls';
export * from './manager';
export * from './ca-client';
