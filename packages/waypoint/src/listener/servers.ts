// The HTTP servers the sniffed tunnels are handed to. They never listen: each tunnel Duplex is fed in with
// `emit('connection')`. The tunnel's context travels in a WeakMap keyed by what the request can reach: the
// tunnel itself for HTTP/1 (req.socket) and the HTTP/2 session for h2 (req.stream.session).
import http from 'node:http';
import http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import type { DownstreamRequest, DownstreamResponse, RequestHandler, TunnelContext } from '../http/index';

/** Envoy's default max request headers size is 60 KiB; node's 16 KiB default answers 431 beyond it. */
export const MAX_HEADER_BYTES = 60 * 1024;
/** Slowloris guard: the request head must arrive within this (node answers 408). */
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
  const h1 = http.createServer({
    maxHeaderSize: MAX_HEADER_BYTES,
    headersTimeout: HEADERS_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    keepAliveTimeout: DOWNSTREAM_KEEPALIVE_TIMEOUT_MS,
  });
  h1.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const ctx = contexts.get(req.socket);
    if (ctx === undefined) return void res.writeHead(500).end();
    handler(req, res, ctx);
  });
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
      contexts.set(tunnel, ctx);
      h1.emit('connection', tunnel);
      tunnel.resume();
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
      h1.closeAllConnections();
      h1.close();
      h2.close();
    },
  };
}
