export {
  CertificateManager,
  DEFAULT_REFRESH_FRACTION,
  DEFAULT_INITIAL_BACKOFF_MS,
  DEFAULT_MAX_BACKOFF_MS,
  DEFAULT_GET_TIMEOUT_MS,
} from './certificate-manager';
export type {
  CertificateManagerOptions,
  CertificateRequest,
  FetchCertificate,
  RotationEvent,
  FetchFailedEvent,
} from './certificate-manager';
export { certificateFromResponse } from './certificate';
export type { WorkloadCertificate } from './certificate';
export { systemClock } from './clock';
export type { Clock } from './clock';
