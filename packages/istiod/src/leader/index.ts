export { LeaderElector, ELECTION_NAMES, LEASE_DURATION_MS, RENEW_DEADLINE_MS, RETRY_PERIOD_MS, type LeaderElectorOptions } from './elector';
export { KubeRest, KubeRequestError, KUBE_WRITE_TIMEOUT_MS, type KubeReply } from './kube-rest';
export { microTime, leasePath, type LeaseObject, type LeaseSpec } from './lease';
export { KeyedQueue, type KeyedQueueOptions } from './keyed-queue';
