import http2, { type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { parseAuthority } from '../authority';
import {
  H2_KEEPALIVE_INTERVAL_MS,
  H2_KEEPALIVE_TIMEOUT_MS,
  HBONE_CONNECT_TIMEOUT_MS,
  POOL_IDLE_RELEASE_MS,
  POOL_MAX_STREAMS_PER_CONNECTION,
} from '../constants';
import { HboneConnectRefusedError, HboneError } from '../errors';
import { newTraceparent } from '../headers/traceparent';
import { PooledConnection } from './connection';
import { defaultDial, type HboneTlsOptions } from './establish';
import { guardTunnelWrites } from '../write-guard';

/** ztunnel's WorkloadKey: connections are shared only between requests with equal keys. */
export interface WorkloadKey {
  srcIdentity: string;
  dstIdentities: readonly string[];
  /** Next hop `IP:port` / `[v6]:port`, e.g. podIP:15008 or the waypoint's IP:15008. */
  nextHop: string;
  srcIp: string;
}

export interface HbonePoolOptions {
  maxStreamsPerConnection?: number;
  idleReleaseMs?: number;
  /** Opens the TCP connection for a key (e.g. inside a pod netns); defaults to net.connect(nextHop). */
  dial?: (key: WorkloadKey, signal: AbortSignal) => Promise<Socket> | Socket;
  keepaliveIntervalMs?: number;
  keepaliveTimeoutMs?: number;
  /** Diagnostics for errors on established tunnels (they are also emitted on the tunnel). */
  onError?: (err: Error) => void;
}

export interface HboneConnectRequest {
  key: WorkloadKey;
  /** `:authority`, the HBONE target (formatAuthority). */
  authority: string;
  /** forwarded / baggage / traceparent ...; a random traceparent is added when absent. */
  headers?: OutgoingHttpHeaders;
  tlsOptions: HboneTlsOptions;
  connectTimeoutMs?: number;
  signal?: AbortSignal;
}

export interface HboneTunnelInfo {
  responseHeaders: IncomingHttpHeaders;
  connectionId: number;
}

const tunnelInfo = new WeakMap<Duplex, HboneTunnelInfo>();

/** Response headers (e.g. the destination's `baggage`) and connection id of a pool tunnel. */
export function getTunnelInfo(tunnel: Duplex): HboneTunnelInfo | undefined {
  return tunnelInfo.get(tunnel);
}

// Runs once per tunnel on the connect path: a plain join instead of JSON. Newline cannot occur in SPIFFE ids,
// IPs or host:port, so the fields cannot run into each other.
function keyString(key: WorkloadKey): string {
  return `${key.srcIdentity}\n${key.dstIdentities.join('\n')}\n\n${key.nextHop}\n${key.srcIp}`;
}

function timeoutError(req: HboneConnectRequest, ms: number): HboneError {
  return new HboneError(
    'HBONE_CONNECT_TIMEOUT',
    `HBONE connect to ${req.authority} via ${req.key.nextHop} timed out after ${ms} ms; ` +
      'maybe a NetworkPolicy is blocking HBONE port 15008',
  );
}

export class HbonePool {
  private readonly maxStreams: number;
  private readonly idleReleaseMs: number;
  private readonly byKey = new Map<string, PooledConnection[]>();
  private readonly all = new Set<PooledConnection>();
  private closed = false;

  constructor(private readonly opts: HbonePoolOptions = {}) {
    this.maxStreams = opts.maxStreamsPerConnection ?? POOL_MAX_STREAMS_PER_CONNECTION;
    this.idleReleaseMs = opts.idleReleaseMs ?? POOL_IDLE_RELEASE_MS;
  }

  /** Opens a CONNECT tunnel; resolves once the peer answered 200. */
  async connect(req: HboneConnectRequest): Promise<Duplex> {
    if (this.closed) throw new HboneError('HBONE_POOL_CLOSED', 'HBONE pool is closed (shutting down)');
    const ms = req.connectTimeoutMs ?? HBONE_CONNECT_TIMEOUT_MS;
    const k = keyString(req.key);
    // The common case, a pooled connection with a free stream: only the CONNECT response needs a
    // deadline, so no AbortController / EventTarget listeners on the per-connection path.
    const ready = req.signal === undefined ? this.withCapacity(k) : undefined;
    if (ready) {
      ready.claim();
      return this.openStream(ready, req, { timeoutMs: ms });
    }
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(timeoutError(req, ms)), ms);
    const onOuterAbort = (): void => ctl.abort(req.signal?.reason);
    req.signal?.addEventListener('abort', onOuterAbort, { once: true });
    try {
      const conn = await this.acquire(k, req, ctl.signal, ms);
      return await this.openStream(conn, req, { signal: ctl.signal });
    } finally {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onOuterAbort);
    }
  }

  private withCapacity(k: string): PooledConnection | undefined {
    const list = this.byKey.get(k);
    if (list === undefined) return undefined;
    for (const c of list) if (c.hasCapacity()) return c;
    return undefined;
  }

  /** Live (non-draining) connections, per key or in total. */
  connectionCount(key?: WorkloadKey): number {
    if (key) return this.byKey.get(keyString(key))?.length ?? 0;
    let n = 0;
    for (const list of this.byKey.values()) n += list.length;
    return n;
  }

  /** Closes every connection; open tunnels get `graceMs` to finish before being destroyed. */
  async close(graceMs = 0): Promise<void> {
    this.closed = true;
    const conns = [...this.all];
    for (const c of conns) c.close();
    if (graceMs > 0 && conns.some((c) => c.state !== 'closed')) {
      await new Promise((resolve) => setTimeout(resolve, graceMs).unref());
    }
    for (const c of conns) c.destroy();
  }

  private async acquire(k: string, req: HboneConnectRequest, signal: AbortSignal, timeoutMs: number): Promise<PooledConnection> {
    for (;;) {
      const list = this.byKey.get(k) ?? [];
      const ready = list.find((c) => c.hasCapacity());
      if (ready) {
        ready.claim();
        return ready;
      }
      let pending = list.find((c) => c.state === 'connecting' && c.waiting < c.capacity);
      pending ??= this.startConnection(k, req, timeoutMs);
      pending.waiting++;
      try {
        await raceAbort(pending.ready, signal);
      } finally {
        pending.waiting--;
      }
    }
  }

  /**
   * The handshake has its own deadline rather than the first caller's signal: other requests may
   * join it, so one caller giving up must not fail them all.
   */
  private startConnection(k: string, req: HboneConnectRequest, timeoutMs: number): PooledConnection {
    const nextHop = parseAuthority(req.key.nextHop);
    const dial = this.opts.dial;
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(timeoutError(req, timeoutMs)), timeoutMs);
    const signal = ctl.signal;
    const conn = new PooledConnection(
      this.maxStreams,
      this.idleReleaseMs,
      {
        intervalMs: this.opts.keepaliveIntervalMs ?? H2_KEEPALIVE_INTERVAL_MS,
        timeoutMs: this.opts.keepaliveTimeoutMs ?? H2_KEEPALIVE_TIMEOUT_MS,
      },
      (c, final) => this.forget(k, c, final),
      {
        nextHop,
        tls: req.tlsOptions,
        expectedSans: req.tlsOptions.expectedSans ?? req.key.dstIdentities,
        signal,
        dial: dial ? (s) => dial(req.key, s) : (s) => defaultDial(nextHop, s),
      },
    );
    conn.ready.then(() => clearTimeout(timer), () => clearTimeout(timer));
    const list = this.byKey.get(k);
    if (list) list.push(conn);
    else this.byKey.set(k, [conn]);
    this.all.add(conn);
    return conn;
  }

  private forget(k: string, conn: PooledConnection, final: boolean): void {
    if (final) this.all.delete(conn);
    const list = this.byKey.get(k);
    if (!list) return;
    const i = list.indexOf(conn);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.byKey.delete(k);
  }

  private openStream(conn: PooledConnection, req: HboneConnectRequest, deadline: ResponseDeadline): Promise<Duplex> {
    let stream: ClientHttp2Stream;
    try {
      stream = conn.session!.request(
        { traceparent: newTraceparent(), ...req.headers, ':method': 'CONNECT', ':authority': req.authority },
        { endStream: false },
      );
    } catch (err) {
      conn.release();
      throw new HboneError('HBONE_STREAM_FAILED', `HBONE CONNECT to ${req.authority} could not be sent: ${String(err)}`, { cause: err });
    }
    stream.once('close', () => conn.release());
    return awaitResponse(stream, conn.id, req, deadline, this.opts.onError);
  }
}

/** Either the caller's abort signal (slow path) or a plain timer started here (pooled fast path). */
interface ResponseDeadline {
  signal?: AbortSignal;
  timeoutMs?: number;
}

function awaitResponse(
  stream: ClientHttp2Stream,
  connectionId: number,
  req: HboneConnectRequest,
  deadline: ResponseDeadline,
  onError: ((err: Error) => void) | undefined,
): Promise<Duplex> {
  const { authority } = req;
  const { signal, timeoutMs } = deadline;
  return new Promise((resolve, reject) => {
    const fail = (err: unknown): void => {
      cleanup();
      if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
      reject(err instanceof HboneError ? err : new HboneError(
        'HBONE_STREAM_FAILED',
        `HBONE CONNECT to ${authority} failed before a response (${err instanceof Error ? err.message : 'stream closed'})`,
        { cause: err },
      ));
    };
    const onClose = (): void => fail(undefined);
    const onAbort = (): void => fail(signal?.reason);
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => fail(timeoutError(req, timeoutMs)), timeoutMs);
    const cleanup = (): void => {
      stream.removeListener('error', fail);
      stream.removeListener('close', onClose);
      signal?.removeEventListener('abort', onAbort);
      if (timer !== undefined) clearTimeout(timer);
    };
    stream.once('error', fail);
    stream.once('close', onClose);
    signal?.addEventListener('abort', onAbort, { once: true });
    stream.once('response', (headers) => {
      cleanup();
      const status = Number(headers[':status']);
      if (status !== 200) {
        stream.on('error', () => undefined);
        stream.close(http2.constants.NGHTTP2_CANCEL);
        reject(new HboneConnectRefusedError(status, authority));
        return;
      }
      // Keep a listener so an RST after the tunnel is handed over never crashes the process;
      // the caller's own 'error' listeners still receive it.
      stream.on('error', (err) => onError?.(err));
      tunnelInfo.set(stream, { responseHeaders: headers, connectionId });
      resolve(guardTunnelWrites(stream));
    });
  });
}

function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
