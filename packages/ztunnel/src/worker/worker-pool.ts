// The main thread's side of the multi-worker data path: N worker threads, each running the unchanged proxy
// code on its own event loop. Per pod every worker binds its own SO_REUSEPORT listeners (15001/15006/15008)
// in the pod netns, so the kernel spreads new connections over the workers by 4-tuple hash and no connection
// ever crosses threads. State, certificates, pod add/del, drain and metric pulls are messages.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger, LogLevel } from '@mesh/core';
import type { CertificateManager, Identity } from '@mesh/identity';
import { closeFd, dupFd } from '@mesh/netns';
import type { ProxyMetrics, Tally } from '../metrics/index';
import type { PodInfo } from '../proxy/index';
import { WorkerExitedError, WorkerScriptMissingError } from './errors';
import {
  MainOp, WorkerOp, type AddPodRequest, type DrainReply, type WorkerSettings, type WorkerStats, type XdsDelta,
} from './protocol';
import { RpcPort } from './rpc';
import type { StateFanout } from './state-fanout';

export const WORKER_SCRIPT_NAME = 'ztunnel-worker.mjs';

export interface WorkerPoolOptions {
  count: number;
  settings: Omit<WorkerSettings, 'id' | 'snapshot'>;
  fanout: StateFanout;
  certs: Pick<CertificateManager, 'get' | 'onRotated'>;
  metrics: ProxyMetrics;
  logger: Logger;
  /** A worker died (not during stop): the process must not run on with part of its listeners gone. */
  onFatal: (err: Error) => void;
  /** The bundled worker entry; default: dist/ztunnel-worker.mjs beside the running bundle. */
  script?: string;
}

interface Member {
  readonly id: number;
  readonly worker: Worker;
  readonly rpc: RpcPort;
}

/** A pod served by every worker (the WorkloadManager's handle). */
export interface WorkerPod {
  close(): Promise<void>;
  stopAccepting(): void;
  readonly connectionCount: number;
}

export class WorkerPool {
  private readonly members: Member[] = [];
  private stopping = false;
  private failed: Error | undefined;
  private lastStats: readonly WorkerStats[] = [];
  private readonly unsubscribe: () => void;

  private constructor(private readonly opts: WorkerPoolOptions) {
    const script = opts.script ?? defaultWorkerScript();
    if (!fs.existsSync(script)) throw new WorkerScriptMissingError({ script, count: opts.count });
    const snapshot = opts.fanout.connect((d) => this.broadcast(WorkerOp.xds, d));
    for (let id = 0; id < opts.count; id++) {
      const worker = new Worker(script, { workerData: { ...opts.settings, id, snapshot } satisfies WorkerSettings });
      const rpc = new RpcPort(worker, `data-path worker ${id}`);
      rpc.handle(MainOp.fetchCertificate, (r: { identity: Identity; timeoutMs: number }) => opts.certs.get(r.identity, { timeoutMs: r.timeoutMs }));
      // The reason stays one line (it is in the error's message and details); the worker's stack is logged once.
      worker.on('error', (err) => this.fail(id, `${err.name}: ${err.message}`, err.stack));
      worker.on('exit', (code) => this.fail(id, `thread exited with code ${code}`));
      this.members.push({ id, worker, rpc });
    }
    this.unsubscribe = opts.certs.onRotated((e) => {
      for (const m of this.members) m.rpc.push(WorkerOp.certificate, e.certificate);
    });
    opts.metrics.setRemoteSource(() => this.pullTallies());
  }

  /** Resolves once every worker has loaded and applied the state snapshot. */
  static async start(opts: WorkerPoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(opts);
    try {
      await Promise.all(pool.members.map((m) => m.rpc.request(WorkerOp.ready, null)));
    } catch (err) {
      await pool.stop();
      throw err;
    }
    return pool;
  }

  /** The worker threads (tests end one to check the fatal path). */
  get threads(): readonly Worker[] {
    return this.members.map((m) => m.worker);
  }

  private broadcast(op: string, payload: unknown): Promise<void> {
    return Promise.all(this.members.map((m) => m.rpc.request(op, payload))).then(() => undefined);
  }

  /** Every worker binds the pod's listeners with its own dup of the netns fd; `netnsFd` is consumed. */
  async startPod(info: PodInfo, netnsFd: number): Promise<WorkerPod> {
    const fds: number[] = [];
    try {
      for (let i = 0; i < this.members.length; i++) fds.push(dupFd(netnsFd));
    } catch (err) {
      for (const fd of fds) closeFd(fd); // e.g. EMFILE: no dup may keep the pod netns alive
      throw err;
    } finally {
      closeFd(netnsFd);
    }
    const results = await Promise.allSettled(this.members.map((m, i) =>
      m.rpc.request(WorkerOp.addPod, { info, netnsFd: fds[i]! } satisfies AddPodRequest)));
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure !== undefined) {
      await this.broadcast(WorkerOp.delPod, info.uid).catch(() => undefined);
      throw failure.reason;
    }
    const uid = info.uid;
    const connections = (): number => this.connectionsOf(uid);
    return {
      close: () => this.broadcast(WorkerOp.delPod, uid),
      stopAccepting: () => void this.broadcast(WorkerOp.stopAccepting, uid).catch(() => undefined),
      get connectionCount(): number {
        return connections();
      },
    };
  }

  /** Every worker drains its own connections until the deadline; the result sums them. */
  async drain(deadlineMs: number): Promise<DrainReply> {
    const replies = await Promise.all(this.members.map((m) => m.rpc.request<DrainReply>(WorkerOp.drain, deadlineMs)));
    return { forced: replies.some((r) => r.forced), remaining: replies.reduce((n, r) => n + r.remaining, 0) };
  }

  async stats(): Promise<WorkerStats[]> {
    const stats = await Promise.all(this.members.map((m) => m.rpc.request<WorkerStats>(WorkerOp.stats, null)));
    this.lastStats = stats;
    return stats;
  }

  setLogLevel(level: LogLevel): void {
    for (const m of this.members) m.rpc.push(WorkerOp.logLevel, level);
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.unsubscribe();
    this.opts.fanout.disconnect();
    await Promise.all(this.members.map((m) => m.worker.terminate()));
  }

  private connectionsOf(uid: string): number {
    let n = 0;
    for (const s of this.lastStats) n += s.pods[uid] ?? 0;
    return n;
  }

  private async pullTallies(): Promise<void> {
    const all = await Promise.all(this.members.map((m) => m.rpc.request<Tally[]>(WorkerOp.tallies, null)));
    for (const t of all) this.opts.metrics.addTallies(t);
  }

  private fail(id: number, reason: string, workerStack?: string): void {
    if (this.stopping || this.failed) return;
    const err = new WorkerExitedError({ worker: id, reason });
    this.failed = err;
    for (const m of this.members) m.rpc.fail(err);
    this.opts.logger.fatal({ err, worker: id, workerStack }, 'data-path worker died');
    this.opts.onFatal(err);
  }
}

/** dist/ztunnel-worker.mjs beside the running bundle; from the source tree, the package's dist/. */
export function defaultWorkerScript(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return path.basename(here) === 'dist' ? path.join(here, WORKER_SCRIPT_NAME) : path.resolve(here, '../../dist', WORKER_SCRIPT_NAME);
}

export type { XdsDelta };
