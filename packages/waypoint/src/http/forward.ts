// One HTTP/1.1 try of a request to one endpoint over its pooled keep-alive HBONE connections, classified the
// way Envoy's retry logic needs: a response, a connect failure (no tunnel), a reset (tunnel died before
// headers) or a timeout.
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { ClientConnection, ClientResponse, Http1Pool, OutgoingHeaders } from '../http1/index';
import type { CancelSignal } from './done-signal';

/** An upstream response, whichever HTTP version carried it. */
export interface UpstreamResponse {
  readonly statusCode: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Readable;
  /** Trailers; complete once `body` ended. */
  trailers(): Readonly<Record<string, string | string[] | undefined>>;
  /** HTTP/2 only: the response was headers only (END_STREAM on HEADERS, a gRPC trailers-only answer). */
  readonly headersOnly?: boolean;
}

export type TryResult =
  | { kind: 'response'; res: UpstreamResponse }
  | { kind: 'connect-failure'; error: Error }
  | { kind: 'reset'; error: Error; refused?: boolean }
  | { kind: 'timeout' }
  | { kind: 'cancelled' };

export interface TryRequest {
  /** The endpoint's keep-alive connections. */
  pool: Http1Pool;
  method: string;
  path: string;
  headers: OutgoingHeaders;
  /** A Buffer can be replayed for retries; a stream is sent once. */
  body: Buffer | Readable | undefined;
  /** 0 = no per-try limit. */
  timeoutMs: number;
  signal: CancelSignal;
  /** Sees each streamed request body chunk as it is sent (byte and gRPC message counts). */
  onBodyChunk?: (chunk: Buffer) => void;
  /** DestinationRule maxRequestsPerConnection: close the connection after this many requests (0 = no limit). */
  maxRequestsPerConnection?: number;
}

export class TryTimeoutError extends Error {
  readonly code = 'WAYPOINT_TRY_TIMEOUT';
}

/** One try in flight: settles once, tears its connection down when cancelled or timed out. */
class Try {
  private settled = false;
  private conn: ClientConnection | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly onAbort = (): void => this.finish({ kind: 'cancelled' }, true);

  constructor(private readonly t: TryRequest, private readonly resolve: (r: TryResult) => void, private readonly reject: (err: unknown) => void) {
    if (t.signal.aborted) {
      this.finish({ kind: 'cancelled' }, false);
      return;
    }
    t.signal.addEventListener('abort', this.onAbort, { once: true });
    if (t.timeoutMs > 0) this.timer = setTimeout(() => this.finish({ kind: 'timeout' }, true), t.timeoutMs);
    const c = t.pool.acquire();
    if (c instanceof Promise) c.then((conn) => this.start(conn), (error: Error) => this.finish({ kind: 'connect-failure', error }, false));
    else this.start(c);
  }

  private start(conn: ClientConnection): void {
    if (this.settled) {
      // Cancelled while the connection was being opened: it was never used, so it can serve the next request.
      if (!conn.inUse && !conn.destroyed) this.t.pool.release(conn);
      return;
    }
    this.conn = conn;
    try {
      conn.send({ method: this.t.method, path: this.t.path, headers: this.t.headers, body: this.t.body, onBodyChunk: this.t.onBodyChunk }, this, this.t.maxRequestsPerConnection ?? 0);
    } catch (err) {
      // An invalid header value (node:http threw ERR_INVALID_CHAR here): the request fails, not the connection.
      this.settle();
      conn.destroy();
      this.reject(err);
    }
  }

  onResponse(res: ClientResponse): void {
    this.finish({ kind: 'response', res }, false);
  }

  onError(error: Error): void {
    this.finish({ kind: 'reset', error }, false);
  }

  private finish(r: TryResult, teardown: boolean): void {
    if (!this.settle()) return;
    if (teardown) this.conn?.destroy();
    this.resolve(r);
  }

  /** Marks the try settled and drops its timer and abort listener; false when it already was. */
  private settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.t.signal.removeEventListener('abort', this.onAbort);
    return true;
  }
}

export function sendOnce(t: TryRequest): Promise<TryResult> {
  return new Promise((resolve, reject) => new Try(t, resolve, reject));
}
