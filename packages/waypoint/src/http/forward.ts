// One HTTP/1.1 try of a request to one endpoint over its HBONE keep-alive agent, classified the way Envoy's retry
// logic needs: a response, a connect failure (no tunnel), a reset (tunnel died before headers) or a timeout.
import http, { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
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
  | { kind: 'reset'; error: Error }
  | { kind: 'timeout' }
  | { kind: 'cancelled' };

export interface TryRequest {
  agent: http.Agent;
  host: string;
  port: number;
  method: string;
  path: string;
  headers: OutgoingHttpHeaders;
  /** A Buffer can be replayed for retries; a stream is sent once. */
  body: Buffer | Readable | undefined;
  /** 0 = no per-try limit. */
  timeoutMs: number;
  signal: CancelSignal;
  /** Counts streamed request body bytes (attached when the stream is piped, so nothing is missed). */
  onBodyBytes?: (n: number) => void;
  /** DestinationRule maxRequestsPerConnection: close the connection after this many requests (0 = no limit). */
  maxRequestsPerConnection?: number;
}

/** Requests served per pooled upstream connection (maxRequestsPerConnection accounting). */
const requestsPerSocket = new WeakMap<object, number>();

/** Counts the request on its connection; past the limit, node:http closes it instead of pooling it. */
function countOnConnection(outgoing: http.ClientRequest, max: number | undefined): void {
  if (max === undefined || max <= 0 || outgoing.socket === null) return;
  const n = (requestsPerSocket.get(outgoing.socket) ?? 0) + 1;
  requestsPerSocket.set(outgoing.socket, n);
  // responseOnEnd frees the socket to the agent only while shouldKeepAlive holds.
  if (n >= max) outgoing.shouldKeepAlive = false;
}

export class TryTimeoutError extends Error {
  readonly code = 'WAYPOINT_TRY_TIMEOUT';
}

export function sendOnce(t: TryRequest): Promise<TryResult> {
  return new Promise((resolve) => {
    let settled = false;
    let connected = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (r: TryResult): void => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      t.signal.removeEventListener('abort', onAbort);
      resolve(r);
    };
    const outgoing = http.request({ agent: t.agent, host: t.host, port: t.port, method: t.method, path: t.path, headers: t.headers, setHost: false });
    const onAbort = (): void => {
      outgoing.destroy();
      finish({ kind: 'cancelled' });
    };
    if (t.signal.aborted) return onAbort();
    t.signal.addEventListener('abort', onAbort, { once: true });
    if (t.timeoutMs > 0) {
      timer = setTimeout(() => {
        outgoing.destroy(new TryTimeoutError('per-try timeout'));
        finish({ kind: 'timeout' });
      }, t.timeoutMs);
    }
    outgoing.once('socket', () => {
      connected = true;
    });
    outgoing.on('error', (error) => finish(connected ? { kind: 'reset', error } : { kind: 'connect-failure', error }));
    outgoing.once('response', (res) => {
      countOnConnection(outgoing, t.maxRequestsPerConnection);
      finish({ kind: 'response', res: fromHttp1(res) });
    });
    writeBody(outgoing, t.body, t.onBodyBytes);
  });
}

function fromHttp1(res: IncomingMessage): UpstreamResponse {
  return { statusCode: res.statusCode ?? 502, headers: res.headers, body: res, trailers: () => res.trailers };
}

function writeBody(outgoing: http.ClientRequest, body: Buffer | Readable | undefined, count?: (n: number) => void): void {
  if (body === undefined) outgoing.end();
  else if (Buffer.isBuffer(body)) outgoing.end(body);
  else {
    if (count !== undefined) body.on('data', (c: Buffer) => count(c.length));
    body.pipe(outgoing);
  }
}
