/**
 * Event-driven SOCK_SEQPACKET unix sockets with SCM_RIGHTS fd passing: the ZDS transport
 * (I:pkg/zdsapi/zds.proto; CNI node agent listens on /var/run/ztunnel/ztunnel.sock, ztunnel connects;
 * one protobuf message per datagram; AddWorkload carries the pod netns fd).
 *
 * Built on non-blocking fds plus a libuv poll handle from the addon, so readiness comes from epoll on
 * the event loop thread. Ownership rules, to keep fds from leaking:
 * - a SeqpacketSocket owns its fd and closes it on close();
 * - fds passed to send() stay owned by the caller; if the message has to be queued the socket sends
 *   duplicates, which it closes once sent or when the socket closes;
 * - fds received in a 'message' belong to the listener; with no 'message' listener they are closed.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import { loadAddon, POLL_READABLE, POLL_WRITABLE, type NativeAddon, type NativeFdPoller } from './addon';
import { errnoError, NetnsError } from './errors';

/** ZDS messages are small protobufs; this bounds one datagram (larger ones fail with EMSGSIZE). */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024;
/** Reads/accepts per readiness callback before yielding to the event loop, to avoid starving others. */
const MAX_OPS_PER_WAKEUP = 64;

export interface SeqpacketMessage {
  data: Buffer;
  fds: number[];
}

export interface SeqpacketSocketOptions {
  maxMessageBytes?: number;
}

interface QueuedMessage {
  data: Buffer;
  fds: number[];
}

export interface SeqpacketSocketEvents {
  message: [SeqpacketMessage];
  drain: [];
  error: [Error];
  close: [];
}

export class SeqpacketSocket extends EventEmitter<SeqpacketSocketEvents> {
  readonly #addon: NativeAddon;
  readonly #fd: number;
  readonly #poller: NativeFdPoller;
  readonly #maxMessageBytes: number;
  readonly #queue: QueuedMessage[] = [];
  #closed = false;

  /** Takes ownership of a connected, non-blocking SOCK_SEQPACKET fd. */
  constructor(fd: number, opts: SeqpacketSocketOptions = {}) {
    super();
    this.#addon = loadAddon();
    this.#fd = fd;
    this.#maxMessageBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#poller = new this.#addon.FdPoller(fd, (status, events) => this.#onReady(status, events));
    this.#poller.start(POLL_READABLE);
  }

  /** Connects to a listening SEQPACKET socket (throws ECONNREFUSED/ENOENT when nobody listens). */
  static connect(path: string, opts: SeqpacketSocketOptions = {}): SeqpacketSocket {
    return adopt(loadAddon().seqpacketConnect(path), opts);
  }

  /** A connected pair (socketpair), handy for tests and in-process plumbing. */
  static pair(opts: SeqpacketSocketOptions = {}): [SeqpacketSocket, SeqpacketSocket] {
    const [a, b] = loadAddon().seqpacketPair();
    let first: SeqpacketSocket;
    try {
      first = adopt(a, opts);
    } catch (err) {
      loadAddon().closeFd(b);
      throw err;
    }
    try {
      return [first, adopt(b, opts)];
    } catch (err) {
      first.close();
      throw err;
    }
  }

  get fd(): number {
    return this.#fd;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Messages waiting for socket buffer space. */
  get queuedMessages(): number {
    return this.#queue.length;
  }

  /**
   * Sends one datagram with optional fds. Returns true when sent now, false when queued (a 'drain'
   * follows once the queue empties). Throws for a closed socket or an immediate send failure.
   */
  send(data: Uint8Array, fds: readonly number[] = []): boolean {
    if (this.#closed) throw new NetnsError('EPIPE', 'send on a closed SeqpacketSocket: reconnect first');
    const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (this.#queue.length === 0 && this.#addon.sendMsg(this.#fd, buf, fds)) return true;
    const dups: number[] = [];
    try {
      for (const fd of fds) dups.push(this.#addon.dupFd(fd));
    } catch (err) {
      for (const fd of dups) this.#addon.closeFd(fd);
      throw err;
    }
    this.#queue.push({ data: Buffer.from(buf), fds: dups });
    if (this.#queue.length === 1) this.#poller.start(POLL_READABLE | POLL_WRITABLE);
    return false;
  }

  /** Stops polling, closes the fd and any queued duplicates; idempotent. Emits 'close' on the next tick. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#poller.close();
    this.#addon.closeFd(this.#fd);
    for (const msg of this.#queue.splice(0)) for (const fd of msg.fds) this.#addon.closeFd(fd);
    process.nextTick(() => this.emit('close'));
  }

  #fail(err: Error): void {
    if (this.#closed) return;
    this.close();
    this.emit('error', err);
  }

  #onReady(status: string | null, events: number): void {
    if (this.#closed) return;
    if (status !== null) {
      // libuv reports POLLERR as EBADF; SO_ERROR names the real failure when there is one.
      const code = this.#pendingError() ?? status;
      this.#fail(errnoError(code, 'poll', 'the seqpacket socket failed; reconnect'));
      return;
    }
    try {
      if (events & POLL_WRITABLE) this.#flush();
      if (events & POLL_READABLE) this.#readSome();
    } catch (err) {
      this.#fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  #pendingError(): string | null {
    try {
      return this.#addon.socketError(this.#fd);
    } catch {
      return null;
    }
  }

  #flush(): void {
    while (!this.#closed && this.#queue.length > 0) {
      const msg = this.#queue[0]!;
      if (!this.#addon.sendMsg(this.#fd, msg.data, msg.fds)) return;
      this.#queue.shift();
      for (const fd of msg.fds) this.#addon.closeFd(fd);
    }
    if (this.#closed) return;
    this.#poller.start(POLL_READABLE);
    this.emit('drain');
  }

  #readSome(): void {
    for (let i = 0; i < MAX_OPS_PER_WAKEUP && !this.#closed; i++) {
      const msg = this.#addon.recvMsg(this.#fd, this.#maxMessageBytes);
      if (msg === null) return;
      if (msg.eof) {
        this.close();
        return;
      }
      if (this.listenerCount('message') === 0) {
        for (const fd of msg.fds) this.#addon.closeFd(fd);
        continue;
      }
      this.emit('message', { data: msg.data, fds: msg.fds });
    }
  }
}

export interface SeqpacketServerOptions extends SeqpacketSocketOptions {
  backlog?: number;
  /** Remove a stale socket file left at `path` by a previous process (only if it is a socket). */
  removeStale?: boolean;
}

export interface SeqpacketServerEvents {
  connection: [SeqpacketSocket];
  error: [Error];
  close: [];
}

/** A listening SEQPACKET socket; emits 'connection' with a SeqpacketSocket per accepted peer. */
export class SeqpacketServer extends EventEmitter<SeqpacketServerEvents> {
  readonly path: string;
  readonly #addon: NativeAddon;
  readonly #fd: number;
  readonly #poller: NativeFdPoller;
  readonly #socketOpts: SeqpacketSocketOptions;
  #closed = false;

  private constructor(path: string, fd: number, opts: SeqpacketServerOptions) {
    super();
    this.path = path;
    this.#addon = loadAddon();
    this.#fd = fd;
    this.#socketOpts = { maxMessageBytes: opts.maxMessageBytes };
    this.#poller = new this.#addon.FdPoller(fd, (status) => this.#onReady(status));
    this.#poller.start(POLL_READABLE);
  }

  static listen(path: string, opts: SeqpacketServerOptions = {}): SeqpacketServer {
    const addon = loadAddon();
    if (opts.removeStale ?? true) removeStaleSocket(path);
    const fd = addon.seqpacketListen(path, opts.backlog);
    try {
      return new SeqpacketServer(path, fd, opts);
    } catch (err) {
      addon.closeFd(fd);
      throw err;
    }
  }

  get fd(): number {
    return this.#fd;
  }

  /** Stops accepting and unlinks the socket file; connected sockets stay open. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#poller.close();
    this.#addon.closeFd(this.#fd);
    fs.rmSync(this.path, { force: true });
    process.nextTick(() => this.emit('close'));
  }

  #onReady(status: string | null): void {
    if (this.#closed) return;
    if (status !== null) {
      this.close();
      this.emit('error', errnoError(status, 'poll', 'the seqpacket listener failed; restart it'));
      return;
    }
    for (let i = 0; i < MAX_OPS_PER_WAKEUP && !this.#closed; i++) {
      let fd: number | null;
      try {
        fd = this.#addon.seqpacketAccept(this.#fd);
      } catch (err) {
        // EMFILE and friends: report but keep listening, as Node's net.Server does.
        this.emit('error', err instanceof Error ? err : new Error(String(err)));
        return;
      }
      if (fd === null) return;
      let socket: SeqpacketSocket;
      try {
        socket = adopt(fd, this.#socketOpts);
      } catch (err) {
        this.emit('error', err instanceof Error ? err : new Error(String(err)));
        return;
      }
      if (this.listenerCount('connection') === 0) socket.close();
      else this.emit('connection', socket);
    }
  }
}

/** Wraps fd in a SeqpacketSocket, closing it if that fails so it cannot leak. */
function adopt(fd: number, opts: SeqpacketSocketOptions): SeqpacketSocket {
  try {
    return new SeqpacketSocket(fd, opts);
  } catch (err) {
    loadAddon().closeFd(fd);
    throw err;
  }
}

function removeStaleSocket(path: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(path);
  } catch {
    return;
  }
  if (stat.isSocket()) fs.rmSync(path, { force: true });
}
