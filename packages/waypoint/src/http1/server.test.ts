import net, { type AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { Http1Server, type Http1Request, type Http1ServerOptions } from './server';
import type { Http1Response } from './response';

const OPTS: Http1ServerOptions = { limits: { maxHeadBytes: 4096, maxFields: 50 }, headersTimeoutMs: 200, requestTimeoutMs: 400, keepAliveTimeoutMs: 300 };
type Handler = (req: Http1Request, res: Http1Response) => void;

const echo: Handler = (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end(`${req.method} ${req.url} ${Buffer.concat(chunks).toString()}`));
};

const open: { close(): void }[] = [];
afterEach(() => {
  for (const o of open.splice(0)) o.close();
});

async function serve(handler: Handler, opts = OPTS): Promise<number> {
  const h1 = new Http1Server<null>(opts, (req, res) => handler(req, res), 50);
  const srv = net.createServer((s) => h1.serve(s, null));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  open.push({ close: () => (h1.close(), srv.close()) });
  return (srv.address() as AddressInfo).port;
}

/** Writes `parts` (with a pause between), resolves everything read until the server closes or `untilMs`. */
async function exchange(port: number, parts: (string | Buffer)[], untilMs = 1_000, gapMs = 0): Promise<{ text: string; closed: boolean }> {
  const s = net.connect({ host: '127.0.0.1', port });
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  s.on('error', () => undefined);
  const closed = new Promise<boolean>((r) => {
    s.once('close', () => r(true));
    setTimeout(() => r(false), untilMs);
  });
  for (const p of parts) {
    if (s.destroyed) break;
    s.write(p);
    if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
  }
  const c = await closed;
  s.destroy();
  return { text: Buffer.concat(chunks).toString('latin1'), closed: c };
}

const statuses = (text: string): number[] => [...text.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1]));

describe('Http1Server', () => {
  it('answers pipelined requests in order on one connection', async () => {
    const port = await serve((req, res) => {
      // The first answer is the slowest: responses must still leave in request order.
      setTimeout(() => res.writeHead(200, { 'content-length': String(req.url.length) }).end(req.url), req.url === '/first' ? 30 : 0);
    });
    const r = await exchange(port, ['GET /first HTTP/1.1\r\nhost: a\r\n\r\nGET /2 HTTP/1.1\r\nhost: a\r\n\r\nGET /3 HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n']);
    expect([...r.text.matchAll(/\r\n\r\n(\/[a-z0-9]+)/g)].map((m) => m[1])).toEqual(['/first', '/2', '/3']);
    expect(r.closed).toBe(true);
  });

  it('reads Content-Length and chunked request bodies and answers chunked without a length', async () => {
    const port = await serve((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.writeHead(200);
        res.write(Buffer.concat(chunks));
        res.end('!');
      });
    });
    const r = await exchange(port, ['POST / HTTP/1.1\r\nhost: a\r\ncontent-length: 3\r\n\r\nabcPOST / HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n'], 300);
    expect(r.text).toContain('transfer-encoding: chunked\r\n');
    expect(r.text).toContain('3\r\nabc\r\n1\r\n!\r\n0\r\n\r\n');
    expect(r.text).toContain('2\r\nxy\r\n1\r\n!\r\n0\r\n\r\n');
  });

  it('holds a body nobody reads yet (pausing past the limit) and streams all of it once read', async () => {
    const size = 300 * 1024;
    const port = await serve((req, res) => {
      setTimeout(() => {
        let n = 0;
        req.on('data', (c: Buffer) => (n += c.length));
        req.on('end', () => res.writeHead(200, { 'content-length': String(String(n).length) }).end(String(n)));
      }, 50);
    });
    const r = await exchange(port, [`POST / HTTP/1.1\r\nhost: a\r\ncontent-length: ${size}\r\nconnection: close\r\n\r\n`, Buffer.alloc(size, 7)], 2_000);
    expect(r.text.endsWith(`\r\n\r\n${size}`)).toBe(true);
  });

  it('sends 100 Continue before reading an expected body, and 417 for other expectations', async () => {
    const port = await serve(echo);
    const r = await exchange(port, ['POST /e HTTP/1.1\r\nhost: a\r\nexpect: 100-continue\r\ncontent-length: 2\r\n\r\n', 'hi'], 300, 50);
    expect(statuses(r.text)).toEqual([100, 200]);
    expect(r.text).toContain('POST /e hi');
    const bad = await exchange(port, ['POST /e HTTP/1.1\r\nhost: a\r\nexpect: something\r\ncontent-length: 2\r\n\r\nhi']);
    expect([statuses(bad.text), bad.closed]).toEqual([[417], true]);
  });

  it('closes HTTP/1.0 connections without keep-alive and keeps those that ask for it', async () => {
    const port = await serve(echo);
    const plain = await exchange(port, ['GET /a HTTP/1.0\r\n\r\n']);
    expect([statuses(plain.text), plain.closed]).toEqual([[200], true]);
    const ka = await exchange(port, ['GET /a HTTP/1.0\r\nconnection: keep-alive\r\n\r\n'], 150);
    expect(ka.text).toContain('connection: keep-alive');
    expect(ka.closed).toBe(false);
  });

  it('answers 400 to an HTTP/1.1 request without Host', async () => {
    const port = await serve(echo);
    const r = await exchange(port, ['GET / HTTP/1.1\r\n\r\n']);
    expect([statuses(r.text), r.closed]).toEqual([[400], true]);
  });

  it('answers 431 to an oversized head and 400 to garbage, then closes', async () => {
    const port = await serve(echo);
    const big = await exchange(port, [`GET / HTTP/1.1\r\nhost: a\r\nx: ${'a'.repeat(5000)}\r\n\r\n`]);
    expect([statuses(big.text), big.closed]).toEqual([[431], true]);
    const garbage = await exchange(port, ['\x16\x03\x01 nonsense\r\n\r\n']);
    expect([statuses(garbage.text), garbage.closed]).toEqual([[400], true]);
  });

  it('answers 408 to a head that trickles in too slowly (slowloris) and closes idle keep-alive connections', async () => {
    const port = await serve(echo);
    const slow = await exchange(port, ['GET / HTTP/1.1\r\nhost: a\r\n', 'x-a: 1\r\n', 'x-b: 2\r\n', 'x-c: 3\r\n', 'x-d: 4\r\n', 'x-e: 5\r\n'], 1_500, 100);
    expect([statuses(slow.text), slow.closed]).toEqual([[408], true]);
    const idle = await exchange(port, ['GET / HTTP/1.1\r\nhost: a\r\n\r\n'], 1_500);
    expect([statuses(idle.text), idle.closed]).toEqual([[200], true]);
  });

  it('drains an unread request body after the response and serves the next request', async () => {
    const port = await serve((req, res) => res.writeHead(403, { 'content-length': '0' }).end());
    const r = await exchange(port, ['POST /x HTTP/1.1\r\nhost: a\r\ncontent-length: 5\r\n\r\n', 'hello', 'GET /y HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n'], 1_000, 20);
    expect([statuses(r.text), r.closed]).toEqual([[403, 403], true]);
  });

  it('drains a held body past the pause limit after a response that never read it', async () => {
    const size = 300 * 1024;
    const port = await serve((_req, res) => setTimeout(() => res.writeHead(403, { 'content-length': '0' }).end(), 50));
    const r = await exchange(port, [`POST /x HTTP/1.1\r\nhost: a\r\ncontent-length: ${size}\r\n\r\n`, Buffer.alloc(size, 7), 'GET /y HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n'], 2_000, 20);
    expect([statuses(r.text), r.closed]).toEqual([[403, 403], true]);
  });

  it('closes the connection, without throwing out of write, when a response header cannot be written', async () => {
    const port = await serve((_req, res) => {
      res.writeHead(200, { 'x-bad': 'a\r\nx-injected: 1' });
      setTimeout(() => expect(res.write('hi')).toBe(false), 10);
    });
    const r = await exchange(port, ['GET / HTTP/1.1\r\nhost: a\r\n\r\n']);
    expect([r.text, r.closed]).toEqual(['', true]);
  });

  it('closes a connection whose unread body is still draining past the request timeout', async () => {
    const port = await serve((_req, res) => res.writeHead(403, { 'content-length': '0' }).end());
    const r = await exchange(port, ['POST /x HTTP/1.1\r\nhost: a\r\ncontent-length: 100\r\n\r\n', 'only part'], 1_500);
    expect([statuses(r.text), r.closed]).toEqual([[403], true]);
  });

  it('emits close without finish on the response when the client goes away', async () => {
    const events: string[] = [];
    const gone = new Promise<void>((resolve) => {
      void serve((_req, res) => {
        res.once('finish', () => events.push('finish'));
        res.once('close', () => {
          events.push('close');
          resolve();
        });
      }).then((port) => exchange(port, ['GET / HTTP/1.1\r\nhost: a\r\n\r\n'], 50));
    });
    await gone;
    expect(events).toEqual(['close']);
  });

  it('never crashes on arbitrary bytes: every answer is a 4xx/5xx error or a normal response', async () => {
    const port = await serve(echo);
    await fc.assert(fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 200 }), async (bytes) => {
      const r = await exchange(port, [Buffer.from(bytes), Buffer.from('\r\n\r\n')], 300);
      for (const s of statuses(r.text)) expect([200, 400, 408, 417, 431, 505]).toContain(s);
    }), { numRuns: 40 });
  });
});
