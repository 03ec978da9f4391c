import { createHash } from 'node:crypto';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { SecureContext } from 'node:tls';
import {
  bridge,
  createHboneServer,
  type HboneServer,
  type HboneServerOptions,
  type HboneTunnelRequest,
  type WorkloadKey,
} from '../src/index';
import { CLIENT_ID, SERVER_ID } from './pki';

/** TCP echo server with allowHalfOpen: it echoes, and ends its side once the client ended. */
export async function startEcho(): Promise<{ port: number; server: net.Server; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.pipe(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    server,
    close: async () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** The ztunnel-like default handler: connect to the authority on loopback and splice. */
export function loopbackForwarder(req: HboneTunnelRequest): void {
  const upstream = net.connect({ host: '127.0.0.1', port: req.target.port, allowHalfOpen: true, noDelay: true });
  upstream.once('error', () => {
    if (!req.responded) req.reject(503);
  });
  upstream.once('connect', () => {
    const tunnel = req.accept({ baggage: 'k8s.namespace.name=dst-ns' });
    bridge(tunnel, upstream);
  });
}

export async function startHbone(
  ctx: SecureContext,
  overrides: Partial<HboneServerOptions> = {},
): Promise<{ server: HboneServer; port: number; errors: Error[] }> {
  const errors: Error[] = [];
  const server = createHboneServer({
    secureContext: ctx,
    onConnect: loopbackForwarder,
    onError: (err) => errors.push(err),
    ...overrides,
  });
  const addr = await server.listen({ port: 0, host: '127.0.0.1' });
  return { server, port: addr.port, errors };
}

export function keyFor(port: number, dst = SERVER_ID): WorkloadKey {
  return { srcIdentity: CLIENT_ID, dstIdentities: [dst], nextHop: `127.0.0.1:${port}`, srcIp: '127.0.0.1' };
}

export function readAll(stream: Duplex): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

export function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}
