// ZDS client (Z:src/inpod/protocol.rs, Z:src/inpod/workloadmanager.rs): connects to the CNI node agent's
// SOCK_SEQPACKET socket, says hello (V1), then handles WorkloadRequests strictly one at a time, answering
// each with exactly one WorkloadResponse{ack}. Reconnects with capped backoff when the agent goes away;
// an undecodable message is logged and ends the connection (the agent resends its snapshot on reconnect).
import { EventEmitter } from 'node:events';
import { closeFd, isNetnsFd, SeqpacketSocket, type SeqpacketMessage } from '@mesh/netns';
import { create, fromBinary, toBinary, zds, type WorkloadRequest } from '@mesh/api';
import type { Logger } from '@mesh/core';
import type { PodInfo } from '../proxy/index';

export const DEFAULT_INPOD_UDS = '/var/run/ztunnel/ztunnel.sock';
export const ZDS_INITIAL_BACKOFF_MS = 100;
/** ztunnel retries the agent connection with backoff up to 15 s. */
export const ZDS_MAX_BACKOFF_MS = 15_000;

/** What the client drives; each method's rejection becomes a NACK carrying its message. */
export interface ZdsHandler {
  /** Owns `netnsFd` from here on (also on rejection). */
  add(info: PodInfo, netnsFd: number): Promise<void>;
  /** Snapshot entry for a pod whose netns the agent could not reopen: keep it if we have it. */
  keep(uid: string): void;
  /** The snapshot is complete: drop pods neither added nor kept since the connection started. */
  snapshotSent(): Promise<void>;
  del(uid: string): Promise<void>;
  /** A new connection started (a new snapshot follows). */
  connectionStarted(): void;
}

export interface ZdsClientOptions {
  path: string;
  handler: ZdsHandler;
  logger: Logger;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

export interface ZdsClientEvents {
  connected: [];
  disconnected: [];
}

export class ZdsClient extends EventEmitter<ZdsClientEvents> {
  private socket: SeqpacketSocket | undefined;
  private queue: Promise<void> = Promise.resolve();
  private retryTimer: NodeJS.Timeout | undefined;
  private backoffMs: number;
  private stopped = false;
  private connectedNow = false;

  constructor(private readonly opts: ZdsClientOptions) {
    super();
    this.backoffMs = opts.initialBackoffMs ?? ZDS_INITIAL_BACKOFF_MS;
  }

  get connected(): boolean {
    return this.connectedNow;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.socket?.close();
    this.socket = undefined;
    this.setConnected(false);
  }

  private connect(): void {
    if (this.stopped) return;
    let sock: SeqpacketSocket;
    try {
      sock = SeqpacketSocket.connect(this.opts.path);
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message, path: this.opts.path, retryInMs: this.backoffMs },
        'cannot reach the CNI node agent over ZDS; is istio-cni running on this node?');
      this.scheduleRetry();
      return;
    }
    this.socket = sock;
    this.queue = Promise.resolve();
    sock.on('message', (msg) => this.enqueue(sock, msg));
    sock.on('error', (err) => {
      this.opts.logger.warn({ err: err.message }, 'ZDS connection error');
      this.drop(sock);
    });
    sock.on('close', () => this.drop(sock));
    try {
      sock.send(toBinary(zds.ZdsHelloSchema, create(zds.ZdsHelloSchema, { version: zds.Version.V1 })));
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message }, 'ZDS hello failed');
      this.drop(sock);
      return;
    }
    this.opts.handler.connectionStarted();
    this.backoffMs = this.opts.initialBackoffMs ?? ZDS_INITIAL_BACKOFF_MS;
    this.setConnected(true);
    this.opts.logger.info({ path: this.opts.path }, 'connected to the CNI node agent (ZDS)');
  }

  private drop(sock: SeqpacketSocket): void {
    if (this.socket !== sock) return;
    this.socket = undefined;
    sock.close();
    this.setConnected(false);
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, this.opts.maxBackoffMs ?? ZDS_MAX_BACKOFF_MS);
  }

  private setConnected(v: boolean): void {
    if (this.connectedNow === v) return;
    this.connectedNow = v;
    this.emit(v ? 'connected' : 'disconnected');
  }

  /** Requests are processed in order; the agent waits for each ack anyway. */
  private enqueue(sock: SeqpacketSocket, msg: SeqpacketMessage): void {
    this.queue = this.queue.then(() => this.process(sock, msg));
  }

  private async process(sock: SeqpacketSocket, msg: SeqpacketMessage): Promise<void> {
    if (this.socket !== sock) {
      for (const fd of msg.fds) closeFd(fd);
      return;
    }
    let req: WorkloadRequest;
    try {
      req = fromBinary(zds.WorkloadRequestSchema, msg.data);
    } catch (err) {
      for (const fd of msg.fds) closeFd(fd);
      this.opts.logger.error({ err: (err as Error).message, bytes: msg.data.length }, 'undecodable ZDS message; reconnecting');
      this.drop(sock);
      return;
    }
    const error = await this.handle(req, msg.fds);
    if (this.socket !== sock) return;
    const resp = create(zds.WorkloadResponseSchema, { payload: { case: 'ack', value: { error } } });
    try {
      sock.send(toBinary(zds.WorkloadResponseSchema, resp));
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message }, 'ZDS ack failed');
      this.drop(sock);
    }
  }

  /** Returns '' (ACK) or the NACK error text. */
  private async handle(req: WorkloadRequest, fds: number[]): Promise<string> {
    const log = this.opts.logger;
    const p = req.payload;
    if (p.case !== 'add') {
      for (const fd of fds) closeFd(fd);
      if (fds.length > 0) return `${p.case ?? 'unknown'} request must carry no file descriptors, got ${fds.length}`;
    }
    try {
      switch (p.case) {
        case 'add':
          return await this.handleAdd(p.value, fds);
        case 'keep':
          this.opts.handler.keep(p.value.uid);
          return '';
        case 'snapshotSent':
          await this.opts.handler.snapshotSent();
          return '';
        case 'del':
          await this.opts.handler.del(p.value.uid);
          return '';
        default:
          return 'unknown WorkloadRequest payload';
      }
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      log.warn({ err: text, request: p.case }, 'ZDS request failed (NACK)');
      return text || 'failed';
    }
  }

  private async handleAdd(add: zds.AddWorkload, fds: number[]): Promise<string> {
    if (fds.length !== 1) {
      for (const fd of fds) closeFd(fd);
      return `AddWorkload for ${add.uid} must carry exactly one netns file descriptor, got ${fds.length}`;
    }
    const fd = fds[0]!;
    if (!isNetnsFd(fd)) {
      closeFd(fd);
      return `AddWorkload for ${add.uid}: the passed file descriptor is not a network namespace`;
    }
    if (add.uid === '') {
      closeFd(fd);
      return 'AddWorkload has an empty uid';
    }
    const w = add.workloadInfo;
    await this.opts.handler.add(
      { uid: add.uid, name: w?.name ?? '', namespace: w?.namespace ?? '', serviceAccount: w?.serviceAccount ?? '' },
      fd,
    );
    return '';
  }
}
