// HTTP/1.1 carried inside HBONE tunnels, as the waypoint does: node:http on both ends, the tunnel Duplex fed to
// the server with emit('connection') and to the client through createConnection. node:http corks its head
// (a latin1 string) with the first body chunk, so these tests exercise the tunnel's batched (writev) path
// with mixed string/Buffer chunks in both directions.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { SecureContext } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HbonePool, type HboneTunnelRequest } from '../src/index';
import { keyFor, readAll, startHbone } from './harness';
import { CLIENT_ID, createTestPki, SERVER_ID, type TestPki } from './pki';

const ROUNDS = 20;
const MULTIBYTE = 'héllo wörld ☃ 🚀';

let pki: TestPki;
let clientCtx: SecureContext;
let hb: Awaited<ReturnType<typeof startHbone>>;
let pool: HbonePool;
const h1 = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => respond(req.url ?? '/', Buffer.concat(chunks), res));
});

/** Each path answers 418 with a different mix of string/Buffer writes, echoing the request body last. */
function respond(path: string, reqBody: Buffer, res: http.ServerResponse): void {
  res.setHeader('x-req-body', reqBody.toString('hex'));
  if (path === '/string') return void res.writeHead(418).end('short body');
  if (path === '/buffer') return void res.writeHead(418).end(Buffer.from('short body'));
  res.writeHead(418, { 'content-type': 'text/plain; charset=utf-8' });
  res.cork();
  res.write(MULTIBYTE, 'utf8');
  res.write(Buffer.from('|buf|'));
  res.write('6c6174696e31', 'hex');
  res.write('fGI2NHw=', 'base64');
  res.write('caf\u00e9', 'latin1');
  process.nextTick(() => res.uncork());
  res.end();
}

const EXPECTED_CORKED = Buffer.concat([
  Buffer.from(MULTIBYTE, 'utf8'), Buffer.from('|buf|'), Buffer.from('latin1'), Buffer.from('|b64|'),
  Buffer.from('caf\u00e9', 'latin1'),
]);

beforeAll(async () => {
  pki = createTestPki();
  clientCtx = pki.context(CLIENT_ID);
  hb = await startHbone(pki.context(SERVER_ID), {
    onConnect: (req: HboneTunnelRequest) => {
      const tunnel = req.accept();
      // Port 7 returns what it received in one Buffer write, so only the client's writes are under test.
      if (req.target.port === 7) void readAll(tunnel).then((b) => tunnel.end(b), () => undefined);
      else h1.emit('connection', tunnel);
    },
  });
  pool = new HbonePool();
});

afterAll(async () => {
  h1.closeAllConnections();
  h1.close();
  await pool?.close();
  hb?.server.destroy();
  pki?.cleanup();
});

function openTunnel(port = 80): Promise<Duplex> {
  return pool.connect({ key: keyFor(hb.port), authority: `127.0.0.1:${port}`, tlsOptions: { secureContext: clientCtx } });
}

interface Reply { status: number; headers: http.IncomingHttpHeaders; body: Buffer }

/** One request over a fresh tunnel; `writeBody` decides how the request body is written. */
async function exchange(path: string, writeBody: (req: http.ClientRequest) => void): Promise<Reply> {
  const tunnel = await openTunnel();
  return new Promise<Reply>((resolve, reject) => {
    const req = http.request({ method: 'POST', path, host: 'svc', createConnection: () => tunnel });
    req.once('error', reject);
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('error', reject);
      res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    writeBody(req);
  });
}

/** Forces the collector to run between writes, so any chunk memory released too early gets reused. */
function churn(): void {
  const junk: Buffer[] = [];
  for (let i = 0; i < 64; i++) junk.push(Buffer.alloc(4096, 0xff));
  (globalThis as { gc?: () => void }).gc?.();
}

describe('HTTP/1.1 over an HBONE tunnel', () => {
  it('keeps the status line and a string body intact (string request body)', async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const r = await exchange('/string', (req) => req.end('ping'));
      expect(r.status).toBe(418);
      expect(r.body.toString()).toBe('short body');
      expect(r.headers['x-req-body']).toBe(Buffer.from('ping').toString('hex'));
      churn();
    }
  });

  it('keeps the status line and a Buffer body intact (Buffer request body)', async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const r = await exchange('/buffer', (req) => req.end(Buffer.from([0, 1, 2, 0xff])));
      expect(r.status).toBe(418);
      expect(r.body.toString()).toBe('short body');
      expect(r.headers['x-req-body']).toBe('000102ff');
      churn();
    }
  });

  it('keeps corked mixed string/Buffer chunks with every encoding intact, both directions', async () => {
    const sent = Buffer.concat([Buffer.from(MULTIBYTE), Buffer.from([0xde, 0xad]), Buffer.from('ok', 'latin1')]);
    for (let i = 0; i < ROUNDS; i++) {
      const r = await exchange('/corked', (req) => {
        req.cork();
        req.write(MULTIBYTE, 'utf8');
        req.write('dead', 'hex');
        req.write(Buffer.from('ok', 'latin1'));
        process.nextTick(() => req.uncork());
        req.end();
      });
      expect(r.status).toBe(418);
      expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(r.body.equals(EXPECTED_CORKED)).toBe(true);
      expect(r.headers['x-req-body']).toBe(sent.toString('hex'));
      churn();
    }
  });

  it('writes a corked string followed by an empty chunk intact on the raw tunnel (node:http end() shape)', async () => {
    const line = 'HTTP/1.1 418 I am a teapot\r\ncontent-length: 4\r\n\r\nbody';
    for (const empty of ['', Buffer.alloc(0)]) {
      for (let i = 0; i < ROUNDS; i++) {
        const tunnel = await openTunnel(7);
        const echoed = readAll(tunnel);
        tunnel.cork();
        tunnel.write(line, 'utf8');
        tunnel.write(empty, 'latin1');
        tunnel.uncork();
        tunnel.end();
        expect((await echoed).toString('latin1')).toBe(line);
      }
    }
  });

  it('writes corked string chunks with their encodings on the raw tunnel Duplex', async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const tunnel = await openTunnel(7);
      const echoed = readAll(tunnel);
      tunnel.cork();
      tunnel.write('HTTP/1.1 418 I\u2019m a teapot\r\n', 'latin1');
      tunnel.write(MULTIBYTE, 'utf8');
      tunnel.write(Buffer.from([0, 0xff]));
      tunnel.write('ff00', 'hex');
      tunnel.write(MULTIBYTE, 'utf16le');
      tunnel.uncork();
      tunnel.end();
      const expected = Buffer.concat([
        Buffer.from('HTTP/1.1 418 I\u2019m a teapot\r\n', 'latin1'), Buffer.from(MULTIBYTE, 'utf8'),
        Buffer.from([0, 0xff]), Buffer.from([0xff, 0]), Buffer.from(MULTIBYTE, 'utf16le'),
      ]);
      expect((await echoed).toString('hex')).toBe(expected.toString('hex'));
      churn();
    }
  });
});
