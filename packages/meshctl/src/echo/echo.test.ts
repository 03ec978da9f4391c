import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EchoUsageError, parseClientArgs, parseServerArgs, type EchoServerConfig } from './args';
import { runClient, type ClientResult, type ClientSummary } from './client';
import type { EchoReply } from './http-handler';
import { startEchoServer, type EchoServer } from './server';

const cfg: EchoServerConfig = {
  host: '127.0.0.1',
  httpPort: 0,
  tcpPort: 0,
  pod: 'echo-v2-abc',
  namespace: 'demo',
  version: 'v2',
  serviceAccount: 'echo',
  failRatio: 0,
};

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

function h2get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const s = http2.connect(`http://127.0.0.1:${port}`);
    s.on('error', reject);
    const st = s.request({ ':path': path });
    let status = 0;
    let body = '';
    st.on('response', (h) => (status = Number(h[':status'])));
    st.on('data', (c: Buffer) => (body += c.toString()));
    st.on('end', () => {
      s.close();
      resolve({ status, body });
    });
    st.on('error', reject);
  });
}

function tcpExchange(port: number, send: string, done: (got: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1', () => c.write(send));
    let got = '';
    c.on('data', (d: Buffer) => {
      got += d.toString();
      if (done(got)) {
        c.destroy();
        resolve(got);
      }
    });
    c.on('error', reject);
    setTimeout(() => reject(new Error(`only got ${JSON.stringify(got)}`)), 3000).unref();
  });
}

describe('echo server', () => {
  let srv: EchoServer;
  let flaky: EchoServer;
  beforeAll(async () => {
    srv = await startEchoServer(cfg, { ephemeral: true });
    flaky = await startEchoServer({ ...cfg, failRatio: 1 }, { ephemeral: true });
  });
  afterAll(async () => {
    await srv.close();
    await flaky.close();
  });

  it('answers HTTP/1.1 with JSON about the request and the pod', async () => {
    const r = await get(srv.httpPort, '/hello?x=1', { 'x-test': 'yes' });
    const j = JSON.parse(r.body) as EchoReply;
    expect(r.status).toBe(200);
    expect(j).toMatchObject({ pod: 'echo-v2-abc', namespace: 'demo', version: 'v2', serviceAccount: 'echo' });
    expect(j).toMatchObject({ method: 'GET', path: '/hello?x=1', protocol: 'HTTP/1.1', remoteAddress: '127.0.0.1' });
    expect(j.headers['x-test']).toBe('yes');
    expect(j.localPort).toBe(srv.httpPort);
  });

  it('answers h2c prior-knowledge on the same port', async () => {
    const r = await h2get(srv.httpPort, '/h2');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ protocol: 'HTTP/2', path: '/h2', version: 'v2' });
  });

  it('returns the status asked by /status/<code>, ?echo_code= and x-echo-code', async () => {
    expect((await get(srv.httpPort, '/status/418')).status).toBe(418);
    expect((await get(srv.httpPort, '/?echo_code=503')).status).toBe(503);
    expect((await get(srv.httpPort, '/', { 'x-echo-code': '429' })).status).toBe(429);
    expect((await h2get(srv.httpPort, '/status/504')).status).toBe(504);
  });

  it('delays by /delay/<ms>', async () => {
    const t0 = performance.now();
    const r = await get(srv.httpPort, '/delay/150');
    expect(r.status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
  });

  it('fails every request with --fail-ratio 1', async () => {
    expect((await get(flaky.httpPort, '/')).status).toBe(503);
    expect((await get(flaky.httpPort, '/status/200')).status).toBe(200);
  });

  it('tcp: answers a hello line with caller info, then echoes', async () => {
    for (const hello of ['hello\nabc', 'hello\r\nabc']) {
      const out = await tcpExchange(srv.tcpPort, hello, (g) => g.endsWith('\nabc'));
      const [line, rest] = out.split('\n');
      expect(JSON.parse(line!)).toMatchObject({ pod: 'echo-v2-abc', protocol: 'TCP', remoteAddress: '127.0.0.1' });
      expect(rest).toBe('abc');
    }
  });

  it('tcp: echoes arbitrary bytes unchanged', async () => {
    expect(await tcpExchange(srv.tcpPort, 'help me\nplease', (g) => g.length >= 14)).toBe('help me\nplease');
  });

  it('client mode tallies responses by version over HTTP/1 and HTTP/2', async () => {
    for (const http2Flag of [false, true]) {
      const lines: Array<ClientResult | ClientSummary> = [];
      const url = `http://127.0.0.1:${srv.httpPort}/`;
      const s = await runClient({ ...parseClientArgs(['--url', url, '--count', '7', '--concurrency', '3']), http2: http2Flag }, (l) => lines.push(l));
      expect(s).toMatchObject({ total: 7, ok: 7, errors: 0, byVersion: { v2: 7 }, byStatus: { '200': 7 } });
      expect(lines).toHaveLength(8);
      expect((lines[0] as ClientResult).protocol).toBe(http2Flag ? 'HTTP/2' : 'HTTP/1.1');
    }
  });

  it('client mode counts connection errors', async () => {
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const s = await runClient(parseClientArgs(['--url', `http://127.0.0.1:${port}/`, '--count', '2']), () => undefined);
    expect(s).toMatchObject({ total: 2, errors: 2 });
  });
});

describe('echo args', () => {
  it('takes flags over env', () => {
    const c = parseServerArgs(['--port', '81', '--version=v9'], { POD_NAME: 'p', POD_NAMESPACE: 'ns', VERSION: 'v1' });
    expect(c).toMatchObject({ httpPort: 81, version: 'v9', pod: 'p', namespace: 'ns', tcpPort: 9000 });
  });

  it('rejects bad values with a usage error', () => {
    expect(() => parseServerArgs(['--fail-ratio', '2'], {})).toThrow(EchoUsageError);
    expect(() => parseClientArgs(['--count', '3'])).toThrow(/--url/);
    expect(() => parseClientArgs(['--url', 'http://x/', '--header', 'bad'])).toThrow(EchoUsageError);
  });
});
