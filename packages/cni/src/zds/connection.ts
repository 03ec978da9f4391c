import { fromBinary, toBinary, zds, type WorkloadRequest, type WorkloadResponse } from '@mesh/api';
import type { Logger } from '@mesh/core';
import { closeFd, type SeqpacketMessage, type SeqpacketSocket } from '@mesh/netns';
import { ZdsAckTimeoutError, ZdsConnectionClosedError, ZdsProtocolError } from './errors';

/** Which part of the conversation a request belongs to: snapshot ones go first, live ones after SnapshotSent. */
export type ZdsPhase = 'snapshot' | 'live';

interface Pending {
  readonly data: Uint8Array;
  readonly fd: number | undefined;
  readonly what: string;
  readonly resolve: (r: WorkloadResponse) => void;
  readonly reject: (e: Error) => void;
}

interface InFlight {
  readonly req: Pending;
  readonly timer: NodeJS.Timeout;
}

export interface ZdsConnectionOptions {
  readonly id: number;
  readonly logger: Logger;
  readonly ackTimeoutMs: number;
  readonly helloTimeoutMs: number;
  /** Called once, when a valid ZdsHello V1 arrived; the server then sends the snapshot. */
  readonly onHello: (conn: ZdsConnection) => void;
  readonly onClose: (conn: ZdsConnection) => void;
}

type State = 'hello' | 'snapshot' | 'live' | 'closed';

/**
 * One ztunnel on the ZDS socket. The protocol correlates an Ack with a request only by time (it is
 * the next message after the request: I:cni/pkg/nodeagent/ztunnelserver.go), so exactly one request
 * is outstanding at a time and everything else waits in a queue. Anything ztunnel sends that is not
 * the awaited answer is a protocol error and closes the connection; ztunnel reconnects and gets a
 * fresh snapshot.
 */
export class ZdsConnection {
  readonly id: number;
  readonly #socket: SeqpacketSocket;
  readonly #opts: ZdsConnectionOptions;
  readonly #log: Logger;
  readonly #snapshotQueue: Pending[] = [];
  readonly #liveQueue: Pending[] = [];
  #inflight: InFlight | undefined;
  #state: State = 'hello';
  readonly #helloTimer: NodeJS.Timeout;

  constructor(socket: SeqpacketSocket, opts: ZdsConnectionOptions) {
    this.id = opts.id;
    this.#socket = socket;
    this.#opts = opts;
    this.#log = opts.logger.child({ zdsConn: opts.id });
    socket.on('message', (m) => this.#onMessage(m));
    socket.on('error', (err) => this.#log.warn({ err }, 'ztunnel connection failed'));
    socket.on('close', () => this.close('ztunnel closed the connection'));
    this.#helloTimer = setTimeout(
      () => this.#protocolError(`no ZdsHello within ${opts.helloTimeoutMs} ms`),
      opts.helloTimeoutMs,
    );
  }

  get state(): State {
    return this.#state;
  }

  get closed(): boolean {
    return this.#state === 'closed';
  }

  /** Queues one request (fd = the pod netns for AddWorkload) and resolves with ztunnel's Ack. */
  request(msg: WorkloadRequest, fd: number | undefined, what: string, phase: ZdsPhase = 'live'): Promise<WorkloadResponse> {
    if (this.#state === 'closed') return Promise.reject(new ZdsConnectionClosedError({ what }));
    return new Promise((resolve, reject) => {
      const data = toBinary(zds.WorkloadRequestSchema, msg);
      (phase === 'snapshot' ? this.#snapshotQueue : this.#liveQueue).push({ data, fd, what, resolve, reject });
      this.#pump();
    });
  }

  /** Called by the server once SnapshotSent was acknowledged: live requests may flow. */
  markLive(): void {
    if (this.#state !== 'snapshot') return;
    this.#state = 'live';
    this.#pump();
  }

  close(reason: string): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    clearTimeout(this.#helloTimer);
    this.#log.info({ reason }, 'ztunnel connection closed');
    this.#socket.close();
    const err = (what: string): Error => new ZdsConnectionClosedError({ what });
    if (this.#inflight) {
      clearTimeout(this.#inflight.timer);
      this.#inflight.req.reject(err(this.#inflight.req.what));
      this.#inflight = undefined;
    }
    for (const p of [...this.#snapshotQueue.splice(0), ...this.#liveQueue.splice(0)]) p.reject(err(p.what));
    this.#opts.onClose(this);
  }

  #pump(): void {
    if (this.#inflight || this.#state === 'hello' || this.#state === 'closed') return;
    const queue = this.#state === 'snapshot' ? this.#snapshotQueue : this.#liveQueue;
    const next = queue.shift();
    if (!next) return;
    try {
      this.#socket.send(next.data, next.fd === undefined ? [] : [next.fd]);
    } catch (e) {
      next.reject(e instanceof Error ? e : new Error(String(e)));
      this.close(`send failed: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    // A late Ack would be taken as the answer to the next request, so a timeout ends the
    // connection (Istio keeps it; we prefer an unambiguous resync through a new snapshot).
    const timer = setTimeout(() => {
      this.#inflight = undefined;
      next.reject(new ZdsAckTimeoutError({ what: next.what, timeoutMs: this.#opts.ackTimeoutMs }));
      this.close(`no ack for ${next.what} within ${this.#opts.ackTimeoutMs} ms`);
    }, this.#opts.ackTimeoutMs);
    this.#inflight = { req: next, timer };
  }

  #onMessage(msg: SeqpacketMessage): void {
    if (msg.fds.length > 0) {
      for (const fd of msg.fds) closeFd(fd);
      this.#protocolError(`ztunnel sent ${msg.fds.length} file descriptor(s); it never should`);
      return;
    }
    if (this.#state === 'hello') this.#onHello(msg.data);
    else this.#onResponse(msg.data);
  }

  #onHello(data: Buffer): void {
    let hello: zds.ZdsHello;
    try {
      hello = fromBinary(zds.ZdsHelloSchema, data);
    } catch (e) {
      this.#protocolError(`undecodable ZdsHello: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    if (hello.version !== zds.Version.V1) {
      this.#protocolError(`unsupported ZdsHello version ${hello.version}; expected V1`);
      return;
    }
    clearTimeout(this.#helloTimer);
    this.#state = 'snapshot';
    this.#log.info({ version: hello.version }, 'received hello from ztunnel');
    this.#opts.onHello(this);
    this.#pump();
  }

  #onResponse(data: Buffer): void {
    const inflight = this.#inflight;
    if (!inflight) {
      this.#protocolError('unexpected message while no request was outstanding');
      return;
    }
    let resp: WorkloadResponse;
    try {
      resp = fromBinary(zds.WorkloadResponseSchema, data);
    } catch (e) {
      this.#protocolError(`undecodable WorkloadResponse: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    if (resp.payload.case !== 'ack') {
      this.#protocolError('WorkloadResponse without an Ack');
      return;
    }
    clearTimeout(inflight.timer);
    this.#inflight = undefined;
    inflight.req.resolve(resp);
    this.#pump();
  }

  #protocolError(reason: string): void {
    if (this.#state === 'closed') return;
    this.#log.warn({ err: new ZdsProtocolError({ reason }) }, 'closing ztunnel connection after a protocol error');
    this.close(reason);
  }
}
