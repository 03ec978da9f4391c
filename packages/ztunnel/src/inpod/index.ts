export { ZdsClient, DEFAULT_INPOD_UDS, ZDS_INITIAL_BACKOFF_MS, ZDS_MAX_BACKOFF_MS } from './zds-client';
export type { ZdsClientOptions, ZdsHandler } from './zds-client';
export { WorkloadManager } from './workload-manager';
export type { PodHandle, StartPod } from './workload-manager';
