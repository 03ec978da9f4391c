export { uriSansOf, spiffeIdentitiesOf, verifyPeerIdentity, verifySameTrustDomain } from './peer';
export type { CertificateLike } from './peer';
export {
  createWorkloadTlsContext,
  workloadServerOptions,
  workloadClientOptions,
  WORKLOAD_TLS13_CIPHERSUITES,
  HBONE_ALPN,
} from './context';
export type { WorkloadCredentials } from './context';
