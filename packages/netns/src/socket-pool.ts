/**
 * Sockets made ahead of time inside one network namespace, so a connection never waits for the helper
 * thread. Only socket() has to run in the netns (netns.ts); options, bind and connect act in the socket's
 * own netns from any thread. So the pool asks the helper for a batch at a time (one setns() round trip
 * for the batch, off the JS thread, answered through the event loop) and hands them out one per
 * connection; SO_MARK, IP_TRANSPARENT and the rest are applied when a socket is taken, exactly as
 * connectInNetns applies them. Like Rust ztunnel's in-pod socket factory it is per pod: close() it when
 * the pod goes away, before closing the netns fd, because every idle socket holds the netns alive.
 */
import type net from 'node:net';
import { loadAddon } from './addon';
import { connectFd, type ConnectOptions } from './connect';
import { NetnsError } from './errors';
import { socketFromFd } from './net-fd';

/** Sockets asked of the helper per refill. */
export const SOCKET_POOL_BATCH = 16;
/** The most one refill may ask for (the addon's per-request limit). */
export const SOCKET_POOL_MAX_BATCH = 64;

export interface NetnsSocketPoolOptions {
  /** Sockets per refill, 1..64; a refill starts when fewer than a quarter of this are idle. */
  batch?: number;
}

/** take() on a closed pool. */
export class NetnsSocketPoolClosedError extends NetnsError {
  constructor() {
    super('NETNS_POOL_CLOSED', 'the socket pool is closed: its pod was removed');
    this.name = 'NetnsSocketPoolClosedError';
  }
}

interface Waiter {
  resolve(fd: number): void;
  reject(err: unknown): void;
}

/** Idle sockets, waiters and refill state of one address family. */
class FamilyPool {
  readonly idle: number[] = [];
  readonly waiters: Waiter[] = [];
  refilling = false;

  constructor(readonly family: 4 | 6) {}
}

export class NetnsSocketPool {
  private readonly batch: number;
  private readonly lowWater: number;
  private readonly v4 = new FamilyPool(4);
  private readonly v6 = new FamilyPool(6);
  private closed = false;

  /** `netnsFd` stays the caller's: it must stay open until close() (each refill holds its own dup). */
  constructor(readonly netnsFd: number, opts: NetnsSocketPoolOptions = {}) {
    const batch = opts.batch ?? SOCKET_POOL_BATCH;
    if (!Number.isInteger(batch) || batch < 1 || batch > SOCKET_POOL_MAX_BATCH) {
      throw new NetnsError('EINVAL', `batch must be an integer from 1 to ${SOCKET_POOL_MAX_BATCH}, got ${batch}`);
    }
    this.batch = batch;
    this.lowWater = Math.max(1, batch >> 2);
  }

  /** Idle sockets of a family (for tests and metrics). */
  idleCount(family: 4 | 6 = 4): number {
    return this.of(family).idle.length;
  }

  /** An unbound TCP socket fd of the netns, now owned by the caller. */
  take(family: 4 | 6 = 4): Promise<number> {
    const fd = this.tryTake(family);
    if (fd !== undefined) return Promise.resolve(fd);
    if (this.closed) return Promise.reject(new NetnsSocketPoolClosedError());
    const p = this.of(family);
    return new Promise<number>((resolve, reject) => {
      p.waiters.push({ resolve, reject });
      this.refill(p);
    });
  }

  /** An idle socket at once, or undefined (a refill is then under way). */
  tryTake(family: 4 | 6 = 4): number | undefined {
    if (this.closed) return undefined;
    const p = this.of(family);
    const fd = p.idle.pop();
    if (p.idle.length < this.lowWater) this.refill(p);
    return fd;
  }

  /** connectInNetns with a socket from this pool: resolves a connected fd. */
  async connect(opts: ConnectOptions): Promise<number> {
    const family = opts.family ?? 4;
    return connectFd(this.tryTake(family) ?? (await this.take(family)), opts);
  }

  /** connect(), wrapped in a net.Socket that owns the fd. */
  async connectSocket(opts: ConnectOptions): Promise<net.Socket> {
    return socketFromFd(await this.connect(opts), { allowHalfOpen: opts.allowHalfOpen ?? false });
  }

  /** Closes every idle socket and fails pending take()s; sockets of a refill still under way are closed when it lands. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of [this.v4, this.v6]) {
      for (const fd of p.idle.splice(0)) loadAddon().closeFd(fd);
      for (const w of p.waiters.splice(0)) w.reject(new NetnsSocketPoolClosedError());
    }
  }

  private of(family: 4 | 6): FamilyPool {
    return family === 6 ? this.v6 : this.v4;
  }

  private refill(p: FamilyPool): void {
    if (p.refilling || this.closed) return;
    p.refilling = true;
    try {
      loadAddon().socketsInNetnsAsync(this.netnsFd, p.family, this.batch, (err, fds) => this.landed(p, err, fds));
    } catch (err) {
      p.refilling = false;
      for (const w of p.waiters.splice(0)) w.reject(err);
    }
  }

  private landed(p: FamilyPool, err: Error | null, fds: number[]): void {
    p.refilling = false;
    if (this.closed) {
      for (const fd of fds) loadAddon().closeFd(fd);
      return;
    }
    for (const fd of fds) {
      const w = p.waiters.shift();
      if (w === undefined) p.idle.push(fd);
      else w.resolve(fd);
    }
    if (p.waiters.length === 0) return;
    // Waiters left: the helper failed (reject them with its errno error) or there were more than a batch.
    if (err !== null) {
      for (const w of p.waiters.splice(0)) w.reject(err);
      return;
    }
    this.refill(p);
  }
}
