import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type { EchoServerConfig } from './args';
import { startGrpcEcho, type EchoGrpcServer } from './grpc-server';
import { createEchoHandler } from './http-handler';
import { handleTcpEcho } from './tcp-echo';

/** The HTTP/2 client connection preface starts with this; no HTTP/1 method is called PRI. */
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

export interface EchoServer {
  httpPort: number;
  tcpPort: number;
  grpcPort: number;
  close(): Promise<void>;
}

/**
 * node:http2's `allowHTTP1` only works on TLS servers (ALPN), so one plain-TCP listener sniffs the first bytes
 * and hands the socket to the HTTP/1 or the h2c server. Already-read bytes are put back with unshift; the
 * http2 session drains a socket's readable buffer when it takes it over.
 */
function createSniffingListener(cfg: EchoServerConfig): net.Server {
  const handler = createEchoHandler(cfg);
  const h1 = http.createServer(handler);
  const h2 = http2.createServer(handler);
  h1.keepAliveTimeout = 5_000;
  return net.createServer((sock) => {
    sock.on('error', () => sock.destroy());
    sock.once('data', (chunk: Buffer) => {
      sock.pause();
      sock.unshift(chunk);
      const n = Math.min(chunk.length, H2_PREFACE.length);
      const isH2 = chunk.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
      if (isH2) {
        // The session takes over the socket's handle and drains the unshifted bytes itself; resuming here
        // would make the JS side compete with it for incoming data.
        h2.emit('connection', sock);
      } else {
        h1.emit('connection', sock);
        sock.resume();
      }
    });
  });
}

function listen(server: net.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Keep-alive and h2 sessions would otherwise hold close() open.
    (server as net.Server & { closeAllConnections?: () => void }).closeAllConnections?.();
  });
}

/** Starts the listeners that are enabled (port > 0, or port 0 passed as `ephemeral`). */
export async function startEchoServer(cfg: EchoServerConfig, opts: { ephemeral?: boolean } = {}): Promise<EchoServer> {
  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  const trackSockets = (s: net.Server) => s.on('connection', (c: net.Socket) => {
    sockets.add(c);
    c.once('close', () => sockets.delete(c));
  });
  let httpPort = 0;
  let tcpPort = 0;
  if (cfg.httpPort > 0 || opts.ephemeral) {
    const s = createSniffingListener(cfg);
    trackSockets(s);
    servers.push(s);
    httpPort = await listen(s, cfg.httpPort, cfg.host);
  }
  if (cfg.tcpPort > 0 || opts.ephemeral) {
    const s = net.createServer((sock) => handleTcpEcho(cfg, sock));
    trackSockets(s);
    servers.push(s);
    tcpPort = await listen(s, cfg.tcpPort, cfg.host);
  }
  let grpcServer: EchoGrpcServer | undefined;
  if (cfg.grpcPort > 0 || opts.ephemeral) {
    try {
      grpcServer = await startGrpcEcho(cfg, cfg.grpcPort);
    } catch (e) {
      await Promise.all(servers.map(closeServer));
      throw e;
    }
  }
  return {
    httpPort,
    tcpPort,
    grpcPort: grpcServer?.port ?? 0,
    close: async () => {
      grpcServer?.close();
      for (const c of sockets) c.destroy();
      await Promise.all(servers.map(closeServer));
    },
  };
}
