export {
  CertificateAuthority,
  createCaCertificateDer,
  DEFAULT_WORKLOAD_CERT_TTL_MS,
  MAX_WORKLOAD_CERT_TTL_MS,
  SELF_SIGNED_ROOT_TTL_MS,
} from './authority';
export type { CaLimits, PluginCaPems, SelfSignedCaOptions, IssueRequest, IssuedCertificate, CaCertificateSpec } from './authority';
