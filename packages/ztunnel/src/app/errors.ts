import { defineMeshError } from '@mesh/core';

export const RootCertUnreadableError = defineMeshError(
  'ZTUNNEL_ROOT_CERT_UNREADABLE',
  'RootCertUnreadableError',
  (d: { variable: string; file: string; reason: string }) =>
    `${d.variable}=${d.file} cannot be read (${d.reason}); mount istiod's root certificate (istio-ca-root-cert) there`,
);

export const WorkerThreadsNeedPortReuseError = defineMeshError(
  'ZTUNNEL_WORKER_THREADS_NEED_PORT_REUSE',
  'WorkerThreadsNeedPortReuseError',
  (d: { workers: number }) =>
    `ZTUNNEL_WORKER_THREADS=${d.workers} needs INPOD_PORT_REUSE=true: every worker binds its own SO_REUSEPORT listener per pod port`,
);
