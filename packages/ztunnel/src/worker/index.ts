export { WorkerPool, defaultWorkerScript, WORKER_SCRIPT_NAME } from './worker-pool';
export type { WorkerPoolOptions, WorkerPod } from './worker-pool';
export { StateFanout } from './state-fanout';
export { WorkerExitedError, WorkerRequestError, WorkerScriptMissingError } from './errors';
export type { WorkerSettings, WorkerStats, XdsDelta } from './protocol';
