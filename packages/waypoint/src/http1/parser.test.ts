import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Http1ParseError } from './errors';
import type { Framing, HeaderRecord, RequestHead, ResponseHead } from './head';
import { RequestParser, ResponseParser, type Http1Limits } from './parser';

const LIMITS: Http1Limits = { maxHeadBytes: 8192, maxFields: 100 };

interface Parsed<H> {
  messages: { head: H; framing: Framing['kind']; keepAlive: boolean; body: string; trailers: HeaderRecord | undefined }[];
  error: Http1ParseError | undefined;
}

/** Feeds `chunks` in order, resuming after every message (as a server does once it answered). */
function parseRequests(chunks: Buffer[]): Parsed<RequestHead> {
  const out: Parsed<RequestHead> = { messages: [], error: undefined };
  let body: Buffer[] = [];
  const p: RequestParser = new RequestParser(LIMITS, {
    onHead: (head, framing, keepAlive) => out.messages.push({ head, framing: framing.kind, keepAlive, body: '', trailers: undefined }),
    onBody: (c) => body.push(Buffer.from(c)),
    onEnd: (trailers) => {
      const m = out.messages[out.messages.length - 1]!;
      m.body = Buffer.concat(body).toString('latin1');
      m.trailers = trailers;
      body = [];
      queueResume = true;
    },
    onError: (e) => (out.error = e),
  });
  let queueResume = false;
  for (const c of chunks) {
    p.execute(c);
    while (queueResume) {
      queueResume = false;
      p.resume();
    }
  }
  return out;
}

function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    parts.push(buf.subarray(prev, p));
    prev = p;
  }
  parts.push(buf.subarray(prev));
  return parts.filter((x) => x.length > 0);
}

const token = fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/);
const value = fc.stringMatching(/^[ -~]{0,20}$/).map((s) => s.trim());
const bodyArb = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));

function chunked(body: Buffer, sizes: number[], trailer: string): Buffer {
  const parts: Buffer[] = [];
  let i = 0;
  for (const s of sizes) {
    if (i >= body.length) break;
    const n = Math.min(body.length - i, 1 + (s % 64));
    parts.push(Buffer.from(`${n.toString(16)}${s % 3 === 0 ? ';ext=1' : ''}\r\n`), body.subarray(i, i + n), Buffer.from('\r\n'));
    i += n;
  }
  if (i < body.length) parts.push(Buffer.from(`${(body.length - i).toString(16)}\r\n`), body.subarray(i), Buffer.from('\r\n'));
  parts.push(Buffer.from(`0\r\n${trailer}\r\n`));
  return Buffer.concat(parts);
}

const requestArb = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'),
  path: fc.stringMatching(/^\/[a-z0-9/?=&%.-]{0,30}$/),
  headers: fc.array(fc.tuple(token, value), { maxLength: 6 }),
  body: bodyArb,
  mode: fc.constantFrom('length', 'chunked', 'none'),
  sizes: fc.array(fc.nat(), { maxLength: 8 }),
  trailer: fc.constantFrom('', 'x-t: 1\r\n'),
}).map((r) => {
  const headers = r.headers.filter(([n]) => !['content-length', 'transfer-encoding', 'connection'].includes(n)).map(([n, v]) => `${n}: ${v}\r\n`).join('');
  if (r.mode === 'none') return Buffer.from(`${r.method} ${r.path} HTTP/1.1\r\n${headers}\r\n`);
  if (r.mode === 'length') return Buffer.concat([Buffer.from(`${r.method} ${r.path} HTTP/1.1\r\n${headers}content-length: ${r.body.length}\r\n\r\n`), r.body]);
  return Buffer.concat([Buffer.from(`${r.method} ${r.path} HTTP/1.1\r\n${headers}transfer-encoding: chunked\r\n\r\n`), chunked(r.body, r.sizes, r.trailer)]);
});

describe('RequestParser', () => {
  it('yields the same messages for any split of the byte stream', () => {
    fc.assert(fc.property(fc.array(requestArb, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 12 }), (reqs, cuts) => {
      const stream = Buffer.concat(reqs);
      const whole = parseRequests([stream]);
      expect(whole.error).toBeUndefined();
      expect(whole.messages).toHaveLength(reqs.length);
      expect(parseRequests(splitAt(stream, cuts))).toEqual(whole);
      expect(parseRequests([...stream].map((b) => Buffer.from([b])))).toEqual(whole);
    }), { numRuns: 300 });
  });

  it('never overwrites body views it handed out, whatever arrives later', () => {
    const stream = Buffer.from('POST / HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n'
      + 'POST / HTTP/1.1\r\nhost: a\r\ncontent-length: 3\r\n\r\nxyz');
    for (const step of [1, 2, 3, 7]) {
      const views: Buffer[] = [];
      const p = new RequestParser(LIMITS, { onHead: () => undefined, onBody: (c) => views.push(c), onEnd: () => undefined, onError: (e) => { throw e; } });
      for (let i = 0; i < stream.length; i += step) {
        p.execute(stream.subarray(i, i + step));
        p.resume();
      }
      expect(Buffer.concat(views).toString()).toBe('hello worldxyz');
    }
  });

  it('never throws on garbage: a 400-class error or an incomplete message', () => {
    const garbage = fc.oneof(
      fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a)),
      fc.tuple(requestArb, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([b, i, v]) => {
        const c = Buffer.from(b);
        c[i % c.length] = v;
        return c;
      }),
    );
    fc.assert(fc.property(garbage, fc.array(fc.nat(), { maxLength: 6 }), (g, cuts) => {
      const r = parseRequests(splitAt(g, cuts));
      if (r.error !== undefined) expect([400, 431, 505]).toContain(r.error.status);
    }), { numRuns: 1000 });
  });

  it('keeps the body of a Content-Length request and the trailers of a chunked one', () => {
    const r = parseRequests([Buffer.from('POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcPOST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nX-T: 1\r\n\r\n')]);
    expect(r.messages.map((m) => [m.head.target, m.body, m.trailers])).toEqual([['/a', 'abc', undefined], ['/b', 'hi', { 'x-t': '1' }]]);
    expect(r.messages[0]!.head.headers).toEqual({ host: 'x', 'content-length': '3' });
  });

  it.each([
    ['both Content-Length and Transfer-Encoding', 'POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n'],
    ['conflicting Content-Length values', 'POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n'],
    ['a non-numeric Content-Length', 'POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n'],
    ['chunked that is not the final coding', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n'],
    ['an obs-fold line', 'GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n'],
    ['whitespace before the colon', 'GET / HTTP/1.1\r\nHost : x\r\n\r\n'],
    ['a bare LF inside the head', 'GET / HTTP/1.1\nHost: x\r\n\r\n'],
    ['a field line without a colon', 'GET / HTTP/1.1\r\nthis is not a header\r\n\r\n'],
    ['a bad chunk size', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
  ])('answers 400 for %s', (_what, raw) => {
    expect(parseRequests([Buffer.from(raw)]).error?.status).toBe(400);
  });

  it('answers 431 for a head over the limit, even before it is complete', () => {
    const big = `GET / HTTP/1.1\r\nx-big: ${'a'.repeat(LIMITS.maxHeadBytes)}`;
    expect(parseRequests([Buffer.from(big)]).error?.status).toBe(431);
    const many = `GET / HTTP/1.1\r\n${'a: b\r\n'.repeat(LIMITS.maxFields + 1)}\r\n`;
    expect(parseRequests([Buffer.from(many)]).error?.status).toBe(431);
  });

  it('stops after each message until resumed (pipelining)', () => {
    const heads: string[] = [];
    const p = new RequestParser(LIMITS, { onHead: (h) => heads.push(h.target), onBody: () => undefined, onEnd: () => undefined, onError: () => undefined });
    p.execute(Buffer.from('GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n'));
    expect(heads).toEqual(['/1']);
    expect(p.buffered).toBeGreaterThan(0);
    p.resume();
    expect(heads).toEqual(['/1', '/2']);
  });

  it('keeps HTTP/1.0 connections open only with keep-alive', () => {
    const r = parseRequests([Buffer.from('GET / HTTP/1.0\r\n\r\nGET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.1\r\nConnection: close\r\n\r\n')]);
    expect(r.messages.map((m) => m.keepAlive)).toEqual([false, true, false]);
  });
});

describe('ResponseParser', () => {
  function parseResponse(raw: string, method = 'GET', end = false): { heads: ResponseHead[]; body: string; ended: number; error?: number } {
    const out = { heads: [] as ResponseHead[], body: '', ended: 0, error: undefined as number | undefined };
    const p = new ResponseParser(LIMITS, {
      onHead: (h) => out.heads.push(h), onBody: (c) => (out.body += c.toString()),
      onEnd: () => out.ended++, onError: (e) => (out.error = e.status),
    });
    p.expect(method);
    p.execute(Buffer.from(raw));
    while (p.idle && p.buffered > 0) p.resume();
    if (end) p.finish();
    return out;
  }

  it('has no body for HEAD, 204 and 304, and skips nothing after them', () => {
    expect(parseResponse('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n', 'HEAD')).toMatchObject({ body: '', ended: 1 });
    expect(parseResponse('HTTP/1.1 204 No Content\r\n\r\n')).toMatchObject({ body: '', ended: 1 });
    expect(parseResponse('HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n')).toMatchObject({ body: '', ended: 1 });
  });

  it('reads 1xx heads as their own messages, then the final response', () => {
    const r = parseResponse('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    expect(r.heads.map((h) => h.status)).toEqual([100, 200]);
    expect(r.body).toBe('ok');
  });

  it('reads a body without framing until the connection ends', () => {
    expect(parseResponse('HTTP/1.1 200 OK\r\n\r\nall of it', 'GET', true)).toMatchObject({ body: 'all of it', ended: 1 });
  });

  it('yields the same response for any split of the byte stream', () => {
    const responseArb = fc.record({
      status: fc.constantFrom(200, 201, 404, 503),
      body: bodyArb,
      chunkedBody: fc.boolean(),
      sizes: fc.array(fc.nat(), { maxLength: 8 }),
      trailer: fc.constantFrom('', 'grpc-status: 0\r\n'),
    }).map((r) => r.chunkedBody
      ? Buffer.concat([Buffer.from(`HTTP/1.1 ${r.status} X\r\ntransfer-encoding: chunked\r\n\r\n`), chunked(r.body, r.sizes, r.trailer)])
      : Buffer.concat([Buffer.from(`HTTP/1.1 ${r.status} X\r\ncontent-length: ${r.body.length}\r\n\r\n`), r.body]));
    const parse = (chunks: Buffer[]): unknown => {
      const out = { heads: [] as number[], body: [] as Buffer[], trailers: undefined as unknown, ended: 0, error: undefined as unknown };
      const p = new ResponseParser(LIMITS, {
        onHead: (h) => out.heads.push(h.status), onBody: (c) => out.body.push(Buffer.from(c)),
        onEnd: (t) => {
          out.trailers = t;
          out.ended++;
        },
        onError: (e) => (out.error = e.status),
      });
      for (const c of chunks) p.execute(c);
      return { ...out, body: Buffer.concat(out.body).toString('latin1') };
    };
    fc.assert(fc.property(responseArb, fc.array(fc.nat(), { maxLength: 12 }), (raw, cuts) => {
      const whole = parse([raw]);
      expect(whole).toMatchObject({ ended: 1, error: undefined });
      expect(parse(splitAt(raw, cuts))).toEqual(whole);
    }), { numRuns: 300 });
  });

  it('accepts an empty reason phrase and refuses a bad status line', () => {
    expect(parseResponse('HTTP/1.1 200\r\ncontent-length: 0\r\n\r\n').heads[0]?.status).toBe(200);
    expect(parseResponse('HTTP/1.1 2000 OK\r\n\r\n').error).toBe(400);
    expect(parseResponse('ICY 200 OK\r\n\r\n').error).toBe(400);
  });
});
