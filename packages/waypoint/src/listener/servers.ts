// The HTTP servers the sniffed tunnels are handed to. They never listen. HTTP/1 tunnels are served by the
// waypoint's own HTTP/1.1 codec, the tunnel's context bound per connection; h2 tunnels are fed to a node:http2
// server with `emit('connection')`, the context travelling in a WeakMap keyed by the HTTP/2 session.
import http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import type { DownstreamRequest, DownstreamResponse, RequestHandler, TunnelContext } from '../http/index';
import { Http1Server, type Http1Request, type Http1Response } from '../http1/index';

/** Envoy's default max request headers size is 60 KiB (431 beyond it). */
export const MAX_HEADER_BYTES = 60 * 1024;
/** node:http's default cap on header fields per request (431 beyond it here; node truncated silently). */
export const MAX_HEADER_FIELDS = 2000;
/** Slowloris guard: the request head must arrive within this (answered 408). */
export const HEADERS_TIMEOUT_MS = 10_000;
/** Whole request (head + body) must arrive within this; 0 would disable. */
export const REQUEST_TIMEOUT_MS = 300_000;
/** Envoy's default downstream idle timeout is 1 h; a shorter one keeps idle tunnels cheap. */
export const DOWNSTREAM_KEEPALIVE_TIMEOUT_MS = 60_000;

export interface TunnelServers {
  serveHttp1(tunnel: Duplex, ctx: TunnelContext): void;
  serveH2(tunnel: Duplex, ctx: TunnelContext): void;
  close(): void;
}

export function createTunnelServers(handler: RequestHandler): TunnelServers {
  const contexts = new WeakMap<object, TunnelContext>();
  const h1 = new Http1Server<TunnelContext>({
    limits: { maxHeadBytes: MAX_HEADER_BYTES, maxFields: MAX_HEADER_FIELDS },
    headersTimeoutMs: HEADERS_TIMEOUT_MS,
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: DOWNSTREAM_KEEPALIVE_TIMEOUT_MS,
  }, (req: Http1Request, res: Http1Response, ctx) => handler(req, res, ctx));
  const h2 = http2.createServer({ maxSessionMemory: 64, settings: { maxHeaderListSize: MAX_HEADER_BYTES } });
  let pending: TunnelContext | undefined;
  // 'session' is emitted synchronously inside emit('connection'), so `pending` belongs to this tunnel.
  h2.on('session', (session: http2.ServerHttp2Session) => {
    if (pending !== undefined) contexts.set(session, pending);
  });
  h2.on('request', (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
    const ctx = contexts.get(req.stream.session as object);
    if (ctx === undefined) return void res.writeHead(500).end();
    handler(req as DownstreamRequest, res as DownstreamResponse, ctx);
  });
  h2.on('sessionError', () => undefined);
  return {
    serveHttp1(tunnel, ctx) {
      h1.serve(tunnel, ctx);
    },
    serveH2(tunnel, ctx) {
      pending = ctx;
      try {
        h2.emit('connection', tunnel);
      } finally {
        pending = undefined;
      }
    },
    close() {
      h1.close();
      h2.close();
    },
  };
}
