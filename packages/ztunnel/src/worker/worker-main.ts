// Entry of a data-path worker thread (bundled as dist/ztunnel-worker.mjs). Any uncaught error ends the
// thread, and the main thread turns that into a process exit (WorkerExitedError).
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { createLogger } from '@mesh/core';
import { WorkerOp, type WorkerSettings } from './protocol';
import { RpcPort } from './rpc';
import { WorkerDataPath } from './worker-data-path';

const port = parentPort;
if (port === null) throw new Error('ztunnel-worker runs only as a worker thread of ztunnel');
const settings = workerData as WorkerSettings;
const logger = createLogger({ component: 'ztunnel', level: settings.logLevel, base: { worker: settings.id } });
const rpc = new RpcPort(port, 'main thread');
new WorkerDataPath(settings, rpc, logger, threadId);
rpc.handle(WorkerOp.ready, () => threadId);
