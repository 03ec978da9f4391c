import { EventEmitter } from 'node:events';
import { create, zds, type WorkloadRequest } from '@mesh/api';
import type { Logger } from '@mesh/core';
import { closeFd, dupFd, SeqpacketServer, type SeqpacketSocket } from '@mesh/netns';
import { ZdsConnection } from './connection';
import { ZdsNackError, ZdsNoZtunnelError } from './errors';

/** Istio's CNI agent and ztunnel default (`--ztunnel-uds-address`, ztunnel `INPOD_UDS`). */
export const DEFAULT_ZTUNNEL_UDS_PATH = '/var/run/ztunnel/ztunnel.sock';
/** Istio readWriteDeadline: how long ztunnel has to answer one request (and to say hello). */
export const DEFAULT_ZDS_ACK_TIMEOUT_MS = 5_000;

export interface ZdsWorkloadInfo {
  readonly name: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

/** One pod in the state-of-the-world sent to each ztunnel that connects. */
export interface ZdsSnapshotEntry {
  readonly uid: string;
  readonly workload: ZdsWorkloadInfo | undefined;
  /** Open netns fd (stays owned by the caller); undefined sends KeepWorkload instead of AddWorkload. */
  readonly netnsFd: number | undefined;
}

export interface ZdsServerOptions {
  readonly path: string;
  readonly logger: Logger;
  /** Read when a ztunnel says hello; must reflect every pod the agent has enrolled. */
  readonly snapshot: () => readonly ZdsSnapshotEntry[];
  readonly ackTimeoutMs?: number;
  readonly helloTimeoutMs?: number;
}

export interface ZdsServerEvents {
  /** A ztunnel acknowledged SnapshotSent and now receives live updates. */
  ready: [connectionId: number];
  disconnected: [connectionId: number];
}

/**
 * The CNI agent's side of ZDS (I:cni/pkg/nodeagent/ztunnelserver.go): ztunnels connect to a
 * SOCK_SEQPACKET socket, say hello, receive the snapshot, then live Add/Del. Adds go only to the
 * newest connection; Dels go to every connection, so an old ztunnel still draining during an
 * upgrade also lets go of the pod. Liveness: the socket is polled by epoll, so a peer that goes away
 * is noticed at once (EOF/HUP) instead of by Istio's periodic 10 ms read.
 */
export class ZdsServer extends EventEmitter<ZdsServerEvents> {
  readonly path: string;
  readonly #listener: SeqpacketServer;
  readonly #opts: ZdsServerOptions;
  readonly #conns: ZdsConnection[] = [];
  #nextId = 1;

  private constructor(listener: SeqpacketServer, opts: ZdsServerOptions) {
    super();
    this.path = opts.path;
    this.#listener = listener;
    this.#opts = opts;
    listener.on('connection', (s) => this.#accept(s));
    listener.on('error', (err) => opts.logger.error({ err }, 'ZDS listener error'));
  }

  /** Listens on `opts.path`, replacing a stale socket file left by a previous agent. */
  static listen(opts: ZdsServerOptions): ZdsServer {
    return new ZdsServer(SeqpacketServer.listen(opts.path, { removeStale: true }), opts);
  }

  get connectionCount(): number {
    return this.#conns.length;
  }

  /** Hands the pod to the newest ztunnel and waits for its Ack; rejects on NACK, timeout or no ztunnel. */
  async addWorkload(uid: string, workload: ZdsWorkloadInfo, netnsFd: number): Promise<void> {
    const conn = this.#conns[this.#conns.length - 1];
    if (!conn) throw new ZdsNoZtunnelError({ socketPath: this.path });
    const resp = await withDup(netnsFd, (fd) => conn.request(addRequest(uid, workload), fd, `AddWorkload ${uid}`));
    const reason = ackError(resp);
    if (reason !== '') throw new ZdsNackError({ uid, reason });
  }

  /** Tells every connected ztunnel to drop the pod; NACKs are logged (nothing to undo), failures rejected. */
  async delWorkload(uid: string): Promise<void> {
    const req = create(zds.WorkloadRequestSchema, { payload: { case: 'del', value: { uid } } });
    const results = await Promise.allSettled(this.#conns.map((c) => c.request(req, undefined, `DelWorkload ${uid}`)));
    const errors: unknown[] = [];
    for (const r of results) {
      if (r.status === 'rejected') errors.push(r.reason);
      else if (ackError(r.value) !== '') this.#opts.logger.warn({ uid, reason: ackError(r.value) }, 'ztunnel NACKed DelWorkload');
    }
    if (errors.length > 0) throw errors[0];
  }

  close(): void {
    this.#listener.close();
    for (const c of [...this.#conns]) c.close('agent shutting down');
  }

  #accept(socket: SeqpacketSocket): void {
    const conn = new ZdsConnection(socket, {
      id: this.#nextId++,
      logger: this.#opts.logger,
      ackTimeoutMs: this.#opts.ackTimeoutMs ?? DEFAULT_ZDS_ACK_TIMEOUT_MS,
      helloTimeoutMs: this.#opts.helloTimeoutMs ?? this.#opts.ackTimeoutMs ?? DEFAULT_ZDS_ACK_TIMEOUT_MS,
      onHello: (c) => void this.#sendSnapshot(c),
      onClose: (c) => this.#remove(c),
    });
    // Counted from accept on, as Istio does: an Add that arrives before the hello waits in this
    // connection's queue and is delivered right after the snapshot.
    this.#conns.push(conn);
    this.#opts.logger.info({ zdsConn: conn.id, connected: this.#conns.length }, 'ztunnel connected');
  }

  #remove(conn: ZdsConnection): void {
    const i = this.#conns.indexOf(conn);
    if (i >= 0) this.#conns.splice(i, 1);
    this.#opts.logger.info({ zdsConn: conn.id, connected: this.#conns.length }, 'ztunnel disconnected');
    this.emit('disconnected', conn.id);
  }

  async #sendSnapshot(conn: ZdsConnection): Promise<void> {
    const log = this.#opts.logger.child({ zdsConn: conn.id });
    try {
      // All requests are queued at once (in order) so the snapshot is taken atomically here.
      const sends = this.#opts.snapshot().map((e) => this.#sendSnapshotEntry(conn, e));
      const done = conn.request(snapshotSent(), undefined, 'SnapshotSent', 'snapshot');
      await Promise.all(sends);
      const reason = ackError(await done);
      if (reason !== '') log.error({ reason }, 'ztunnel NACKed SnapshotSent');
      conn.markLive();
      log.info({ pods: sends.length }, 'snapshot sent to ztunnel');
      this.emit('ready', conn.id);
    } catch (err) {
      log.warn({ err }, 'sending the snapshot failed; ztunnel will reconnect');
      conn.close('snapshot failed');
    }
  }

  async #sendSnapshotEntry(conn: ZdsConnection, e: ZdsSnapshotEntry): Promise<void> {
    const req =
      e.netnsFd !== undefined && e.workload !== undefined
        ? addRequest(e.uid, e.workload)
        : create(zds.WorkloadRequestSchema, { payload: { case: 'keep', value: { uid: e.uid } } });
    const what = `snapshot ${req.payload.case} ${e.uid}`;
    const resp =
      req.payload.case === 'add' && e.netnsFd !== undefined
        ? await withDup(e.netnsFd, (fd) => conn.request(req, fd, what, 'snapshot'))
        : await conn.request(req, undefined, what, 'snapshot');
    const reason = ackError(resp);
    // Istio logs snapshot NACKs and goes on: one bad pod must not keep the others out.
    if (reason !== '') this.#opts.logger.error({ uid: e.uid, reason }, 'ztunnel NACKed a snapshot entry');
  }
}

/**
 * Requests wait in a queue, and the pod may be forgotten (its fd closed, the number reused) before
 * the send: a private duplicate, taken synchronously now, keeps the right netns until the answer.
 */
async function withDup<T>(fd: number, run: (dup: number) => Promise<T>): Promise<T> {
  const dup = dupFd(fd);
  try {
    return await run(dup);
  } finally {
    closeFd(dup);
  }
}

function addRequest(uid: string, w: ZdsWorkloadInfo): WorkloadRequest {
  return create(zds.WorkloadRequestSchema, {
    payload: { case: 'add', value: { uid, workloadInfo: { name: w.name, namespace: w.namespace, serviceAccount: w.serviceAccount } } },
  });
}

function snapshotSent(): WorkloadRequest {
  return create(zds.WorkloadRequestSchema, { payload: { case: 'snapshotSent', value: {} } });
}

function ackError(resp: zds.WorkloadResponse): string {
  return resp.payload.case === 'ack' ? resp.payload.value.error : 'response without an Ack';
}
