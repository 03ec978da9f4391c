import { createHash, randomBytes } from 'node:crypto';
import http2 from 'node:http2';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  formatBaggage,
  formatForwarded,
  getTunnelInfo,
  HboneConnectRefusedError,
  HbonePool,
  type HboneTunnelRequest,
} from '../src/index';
import { keyFor, loopbackForwarder, readAll, sha256, startEcho, startHbone } from './harness';
import { CLIENT_ID, createTestPki, SERVER_ID, type TestPki } from './pki';

let pki: TestPki;
let serverCtx: tls.SecureContext;
let clientCtx: tls.SecureContext;
let echo: Awaited<ReturnType<typeof startEcho>>;
let hb: Awaited<ReturnType<typeof startHbone>>;
const seen: HboneTunnelRequest[] = [];
let pool: HbonePool;

beforeAll(async () => {
  pki = createTestPki();
  serverCtx = pki.context(SERVER_ID);
  clientCtx = pki.context(CLIENT_ID);
  echo = await startEcho();
  hb = await startHbone(serverCtx, {
    onConnect: (req) => {
      seen.push(req);
      if (req.target.port === 1) return req.reject(401);
      if (req.target.port === 2) throw new Error('handler bug');
      loopbackForwarder(req);
    },
  });
  pool = new HbonePool();
});

afterAll(async () => {
  await pool?.close();
  hb?.server.destroy();
  await echo?.close();
  pki?.cleanup();
});

function open(authority: string, headers?: Record<string, string>) {
  return pool.connect({ key: keyFor(hb.port), authority, headers, tlsOptions: { secureContext: clientCtx } });
}

describe('HBONE tunnel over loopback', () => {
  it('carries bytes both ways and reports request metadata to the handler', async () => {
    const before = seen.length;
    const tunnel = await open(`127.0.0.1:${echo.port}`, {
      forwarded: formatForwarded('10.0.0.1', 4242, 'echo.default.svc.cluster.local'),
      baggage: formatBaggage({ namespace: 'src-ns', workloadKind: 'deployment', workloadName: 'client' }),
    });
    tunnel.end('hello hbone');
    expect((await readAll(tunnel)).toString()).toBe('hello hbone');
    const req = seen[before]!;
    expect(req.peer.identity).toBe(CLIENT_ID);
    expect(req.target).toEqual({ host: '127.0.0.1', port: echo.port, isIp: true, family: 4 });
    expect(req.headers.forwarded).toEqual({ forIp: '10.0.0.1', forPort: 4242, host: 'echo.default.svc.cluster.local' });
    expect(req.headers.baggage).toEqual({ namespace: 'src-ns', workloadKind: 'deployment', workloadName: 'client' });
    expect(req.headers.traceparent?.version).toBe('00');
    expect(req.local.port).toBe(hb.port);
    expect(getTunnelInfo(tunnel)?.responseHeaders.baggage).toBe('k8s.namespace.name=dst-ns');
  });

  it('propagates half-close in both directions', async () => {
    const tunnel = await open(`127.0.0.1:${echo.port}`);
    // Client -> upstream FIN: the echo server sees end, echoes what it had, then ends its side.
    tunnel.write('part1');
    const firstChunk = await new Promise<Buffer>((resolve) => tunnel.once('data', resolve));
    expect(firstChunk.toString()).toBe('part1');
    const rest = readAll(tunnel);
    tunnel.end('part2');
    // Upstream -> client FIN arrives as 'end' on the tunnel only after our own end.
    expect((await rest).toString()).toBe('part2');
    await new Promise((r) => tunnel.once('close', r));
  });

  it('keeps the reverse direction open after the client half-closes', async () => {
    // An upstream that keeps sending after reading EOF, like a request/response server.
    const net = await import('node:net');
    const late = net.createServer({ allowHalfOpen: true }, (s) => {
      s.resume();
      s.on('end', () => setTimeout(() => s.end('after-eof'), 50));
    });
    late.listen(0, '127.0.0.1');
    await new Promise((r) => late.once('listening', r));
    const port = (late.address() as { port: number }).port;
    try {
      const tunnel = await open(`127.0.0.1:${port}`);
      tunnel.end('request');
      expect((await readAll(tunnel)).toString()).toBe('after-eof');
    } finally {
      late.close();
    }
  });

  it('moves 64 MiB intact', async () => {
    const tunnel = await open(`127.0.0.1:${echo.port}`);
    const CHUNK_BYTES = 1024 * 1024;
    const chunks = Array.from({ length: 64 }, () => randomBytes(CHUNK_BYTES));
    const sent = createHash('sha256');
    for (const c of chunks) sent.update(c);
    const received = readAll(tunnel);
    let i = 0;
    const writeMore = (): void => {
      while (i < chunks.length) {
        if (!tunnel.write(chunks[i++]!)) return void tunnel.once('drain', writeMore);
      }
      tunnel.end();
    };
    writeMore();
    const got = await received;
    expect(got.length).toBe(64 * CHUNK_BYTES);
    expect(sha256(got)).toBe(sent.digest('hex'));
  }, 60_000);

  it('answers a handler 401 as HboneConnectRefusedError', async () => {
    const err = await open('127.0.0.1:1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HboneConnectRefusedError);
    expect((err as HboneConnectRefusedError).code).toBe('HBONE_CONNECT_REFUSED');
    expect((err as HboneConnectRefusedError).status).toBe(401);
  });

  it('answers 503 when the handler throws before answering', async () => {
    const err = await open('127.0.0.1:2').catch((e: unknown) => e);
    expect((err as HboneConnectRefusedError).status).toBe(503);
    expect(hb.errors.some((e) => e.message === 'handler bug')).toBe(true);
  });

  it('answers 503 when the upstream refuses', async () => {
    const err = await open('127.0.0.1:9').catch((e: unknown) => e);
    expect((err as HboneConnectRefusedError).status).toBe(503);
  });

  it.each(['just-a-host', '127.0.0.1:99999', '[::1]', 'host:port', '::1:80'])(
    'answers 400 to the unparseable authority %s',
    async (authority) => {
      const before = seen.length;
      const err = await open(authority).catch((e: unknown) => e);
      expect((err as HboneConnectRefusedError).status).toBe(400);
      expect(seen.length).toBe(before);
    },
  );

  it('answers 400 to a non-CONNECT request', async () => {
    const session = http2.connect(`https://127.0.0.1:${hb.port}`, {
      secureContext: clientCtx,
      ALPNProtocols: ['h2'],
      checkServerIdentity: () => undefined,
    });
    try {
      await new Promise((r) => session.once('remoteSettings', r));
      // ztunnel's server settings.
      expect(session.remoteSettings).toMatchObject({
        maxConcurrentStreams: 200,
        initialWindowSize: 4 * 1024 * 1024,
        maxFrameSize: 1024 * 1024,
        maxHeaderListSize: 64 * 1024,
      });
      const req = session.request({ ':method': 'GET', ':path': '/' });
      const [headers] = (await new Promise((resolve) => req.once('response', (h) => resolve([h])))) as [http2.IncomingHttpHeaders];
      expect(headers[':status']).toBe(400);
    } finally {
      session.destroy();
    }
  });
});
