import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Http1Pool, type ClientResponse } from './client';

let server: http.Server;
let port = 0;
const seen: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string; socket: net.Socket }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString(), socket: req.socket });
      if (req.url === '/204') return void res.writeHead(204).end();
      if (req.url === '/close') return void res.writeHead(200, { connection: 'close' }).end('bye');
      if (req.url === '/trailers') {
        res.writeHead(200, { trailer: 'x-t' });
        res.write('a');
        res.addTrailers({ 'x-t': 'done' });
        return void res.end('b');
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`${req.method} ${req.url}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const newPool = (): Http1Pool => new Http1Pool(() => new Promise((resolve, reject) => {
  const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
  s.once('error', reject);
}));

async function send(pool: Http1Pool, method: string, path: string, body?: Buffer | Readable, headers: Record<string, string> = {}): Promise<{ res: ClientResponse; text: string }> {
  const conn = await pool.acquire();
  const res = await new Promise<ClientResponse>((resolve, reject) => conn.send({ method, path, headers: { host: 'x', ...headers }, body }, { onResponse: resolve, onError: reject }, 0));
  const chunks: Buffer[] = [];
  for await (const c of res.body) chunks.push(c as Buffer);
  return { res, text: Buffer.concat(chunks).toString() };
}

describe('Http1Pool', () => {
  it('reuses one keep-alive connection for sequential requests', async () => {
    const pool = newPool();
    seen.length = 0;
    expect((await send(pool, 'GET', '/a')).text).toBe('GET /a');
    await new Promise((r) => setImmediate(r));
    expect((await send(pool, 'POST', '/b', Buffer.from('hello'))).text).toBe('POST /b');
    expect(seen.map((s) => s.body)).toEqual(['', 'hello']);
    expect(seen[0]!.socket.remotePort).toBe(seen[1]!.socket.remotePort);
    expect(pool.size).toBe(1);
    pool.destroy();
  });

  it('sends a streamed body without Content-Length chunked, and one with it as is', async () => {
    const pool = newPool();
    seen.length = 0;
    await send(pool, 'POST', '/s', Readable.from([Buffer.from('ab'), Buffer.from('cd')]));
    await send(pool, 'PUT', '/l', Readable.from([Buffer.from('xyz')]), { 'content-length': '3' });
    expect(seen.map((s) => [s.headers['transfer-encoding'], s.headers['content-length'], s.body])).toEqual([['chunked', undefined, 'abcd'], [undefined, '3', 'xyz']]);
    pool.destroy();
  });

  it('reads HEAD and 204 responses without a body, and chunked trailers', async () => {
    const pool = newPool();
    const head = await send(pool, 'HEAD', '/h');
    expect([head.res.statusCode, head.res.headers['content-type'], head.text]).toEqual([200, 'text/plain', '']);
    expect((await send(pool, 'GET', '/204')).res.statusCode).toBe(204);
    const t = await send(pool, 'GET', '/trailers');
    expect([t.text, t.res.trailers()]).toEqual(['ab', { 'x-t': 'done' }]);
    expect(pool.size).toBe(1);
    pool.destroy();
  });

  it('does not pool a connection the server closes', async () => {
    const pool = newPool();
    expect((await send(pool, 'GET', '/close')).text).toBe('bye');
    await new Promise((r) => setTimeout(r, 20));
    expect(pool.idleCount).toBe(0);
    pool.destroy();
  });

  it('reports a connection that dies before the response head', async () => {
    const dead = net.createServer((s) => s.once('data', () => s.destroy()));
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const pool = new Http1Pool(() => new Promise((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port: (dead.address() as AddressInfo).port }, () => resolve(s));
    }));
    const conn = await pool.acquire();
    const err = await new Promise<Error>((resolve) => conn.send({ method: 'GET', path: '/', headers: {}, body: undefined }, { onResponse: () => undefined, onError: resolve }, 0));
    expect(err).toBeInstanceOf(Error);
    expect(pool.size).toBe(0);
    dead.close();
  });
});
