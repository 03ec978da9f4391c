import { defineMeshError } from '@mesh/core';

/** A request to (or from) a data-path worker failed on the other side. */
export const WorkerRequestError = defineMeshError(
  'ZTUNNEL_WORKER_REQUEST_FAILED',
  'WorkerRequestError',
  (d: { peer: string; op: string; reason: string; remoteCode: string }) => `${d.peer}: ${d.op} failed: ${d.reason}`,
);

/**
 * A data-path worker died. Its share of the pod listeners is gone, so the kernel would keep handing it
 * connections nobody accepts: ztunnel exits instead of running on with a hole in its data path.
 */
export const WorkerExitedError = defineMeshError(
  'ZTUNNEL_WORKER_EXITED',
  'WorkerExitedError',
  (d: { worker: number; reason: string }) =>
    `data-path worker ${d.worker} died (${d.reason}); its listeners no longer accept, so ztunnel exits to be restarted (see the worker's last log lines)`,
);

export const WorkerScriptMissingError = defineMeshError(
  'ZTUNNEL_WORKER_SCRIPT_MISSING',
  'WorkerScriptMissingError',
  (d: { script: string; count: number }) =>
    `ZTUNNEL_WORKER_THREADS=${d.count} needs the worker bundle ${d.script}; build it with npm run build -w @mesh/ztunnel (ships beside ztunnel.mjs)`,
);
