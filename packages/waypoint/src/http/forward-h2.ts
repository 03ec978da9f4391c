// One HTTP/2 try of a request: a stream on the endpoint's h2c session inside its HBONE tunnel (HTTP2/GRPC
// ports). Classified like the HTTP/1.1 try: response, connect failure (no session), reset (stream closed
// before headers), timeout, cancelled.
import http2, { type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import type { Readable } from 'node:stream';
import { TryTimeoutError, type TryResult, type UpstreamResponse } from './forward';
import type { CancelSignal } from './done-signal';
import type { HeaderMap } from './header-ops';

export interface H2TryRequest {
  /** The endpoint's live session (opened on demand); a rejection is a connect failure. */
  session: () => Promise<ClientHttp2Session>;
  method: string;
  path: string;
  /** Forwardable headers with `host` = the upstream :authority. */
  headers: HeaderMap;
  body: Buffer | Readable | undefined;
  timeoutMs: number;
  signal: CancelSignal;
  onBodyChunk?: (chunk: Buffer) => void;
}

/** RFC 9113 8.2.2: connection-specific fields are malformed in HTTP/2 (node refuses to send them). */
const H2_FORBIDDEN = new Set(['host', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings']);

export function h2RequestHeaders(method: string, path: string, headers: HeaderMap): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ':method': method, ':scheme': 'http', ':path': path, ':authority': String(headers.host ?? '') };
  for (const k of Object.keys(headers)) {
    const v = headers[k];
    if (v === undefined || H2_FORBIDDEN.has(k) || k.charCodeAt(0) === 58 /* : */) continue;
    if (k === 'te' && v !== 'trailers') continue;
    out[k] = v;
  }
  return out;
}

function fromStream(stream: ClientHttp2Stream, headers: IncomingHttpHeaders, flags: number): UpstreamResponse {
  let trailers: IncomingHttpHeaders = {};
  stream.once('trailers', (t: IncomingHttpHeaders) => {
    trailers = t;
  });
  return {
    statusCode: Number(headers[':status'] ?? 502), headers, body: stream, trailers: () => trailers,
    headersOnly: (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0,
  };
}

export async function sendOnceH2(t: H2TryRequest): Promise<TryResult> {
  if (t.signal.aborted) return { kind: 'cancelled' };
  let session: ClientHttp2Session;
  try {
    session = await t.session();
  } catch (error) {
    return { kind: 'connect-failure', error: error instanceof Error ? error : new Error(String(error)) };
  }
  if (t.signal.aborted) return { kind: 'cancelled' };
  return new Promise((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const endStream = t.body === undefined || (Buffer.isBuffer(t.body) && t.body.length === 0);
    let stream: ClientHttp2Stream;
    const finish = (r: TryResult): void => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      t.signal.removeEventListener('abort', onAbort);
      resolve(r);
    };
    const onAbort = (): void => {
      stream.close(http2.constants.NGHTTP2_CANCEL);
      finish({ kind: 'cancelled' });
    };
    try {
      stream = session.request(h2RequestHeaders(t.method, t.path, t.headers), { endStream });
    } catch (error) {
      return finish({ kind: 'connect-failure', error: error instanceof Error ? error : new Error(String(error)) });
    }
    t.signal.addEventListener('abort', onAbort, { once: true });
    if (t.timeoutMs > 0) {
      timer = setTimeout(() => {
        stream.destroy(new TryTimeoutError('per-try timeout'));
        finish({ kind: 'timeout' });
      }, t.timeoutMs);
    }
    const refused = (): boolean => stream.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM;
    stream.on('error', (error) => finish({ kind: 'reset', error, refused: refused() }));
    stream.once('close', () => finish({ kind: 'reset', error: new Error(`upstream HTTP/2 stream closed before headers (code ${stream.rstCode ?? 0})`), refused: refused() }));
    stream.once('response', (headers, flags) => finish({ kind: 'response', res: fromStream(stream, headers, flags) }));
    if (!endStream) writeBody(stream, t.body!, t.onBodyChunk);
  });
}

function writeBody(stream: ClientHttp2Stream, body: Buffer | Readable, onChunk?: (chunk: Buffer) => void): void {
  if (Buffer.isBuffer(body)) {
    stream.end(body);
    return;
  }
  if (onChunk !== undefined) body.on('data', onChunk);
  body.pipe(stream);
}
