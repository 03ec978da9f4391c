export { createCaClient, readTokenFile, DEFAULT_REQUESTED_TTL_S, DEFAULT_CA_CALL_TIMEOUT_MS } from './ca-client';
export type { CaClient, CaClientOptions, FetchedCertificate } from './ca-client';
