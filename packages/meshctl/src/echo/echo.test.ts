import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EchoUsageError, parseClientArgs, parseServerArgs, type EchoServerConfig } from './args';
import { runClient, type ClientResult, type ClientSummary } from './client';
import { ECHO_GRPC_STATUS_KEY, EchoGrpcClient, echoServiceDefinition, type EchoResponse } from './grpc-service';
import type { EchoReply } from './http-handler';
import { startEchoServer, type EchoServer } from './server';

const cfg: EchoServerConfig = {
  host: '127.0.0.1',
  httpPort: 0,
  tcpPort: 0,
  grpcPort: 0,
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

interface GrpcOutcome {
  res?: EchoResponse;
  err?: grpc.ServiceError;
}

/** One unary Echo call on a fresh channel (own connection). */
function grpcEcho(port: number, md: Record<string, string> = {}): Promise<GrpcOutcome> {
  const client = new EchoGrpcClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
  const meta = new grpc.Metadata();
  for (const [k, v] of Object.entries(md)) meta.set(k, v);
  const def = echoServiceDefinition.echo;
  return new Promise((resolve) => {
    client.makeUnaryRequest(def.path, def.requestSerialize, def.responseDeserialize, { message: 'ping' }, meta, { deadline: Date.now() + 3000 }, (err, res) => {
      client.close();
      resolve({ res: res ?? undefined, err: err ?? undefined });
    });
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

  it('grpc: unary Echo returns the pod, version, message, metadata and the caller address', async () => {
    const { res, err } = await grpcEcho(srv.grpcPort, { 'x-test': 'yes' });
    expect(err).toBeUndefined();
    expect(res).toMatchObject({ message: 'ping', pod: 'echo-v2-abc', namespace: 'demo', version: 'v2' });
    expect(res!.metadata['x-test']).toBe('yes');
    expect(res!.metadata['user-agent']).toMatch(/grpc-node/);
    const m = /^127\.0\.0\.1:(\d+)$/.exec(res!.peer);
    expect(m).not.toBeNull();
    expect(Number(m![1])).not.toBe(srv.grpcPort);
  });

  it('grpc: the wire is standard gRPC framing (what proxies see) with a JSON payload', async () => {
    const session = http2.connect(`http://127.0.0.1:${srv.grpcPort}`);
    try {
      const payload = Buffer.from(JSON.stringify({ message: 'raw' }));
      const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, payload.length]), payload]);
      const st = session.request({ ':method': 'POST', ':path': '/mesh.echo.v1.Echo/Echo', 'content-type': 'application/grpc', te: 'trailers' });
      st.end(frame);
      const got = await new Promise<{ headers: http2.IncomingHttpHeaders; trailers: http2.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
        let headers: http2.IncomingHttpHeaders = {};
        let trailers: http2.IncomingHttpHeaders = {};
        const chunks: Buffer[] = [];
        st.on('response', (h) => (headers = h));
        st.on('trailers', (t) => (trailers = t));
        st.on('data', (c: Buffer) => chunks.push(c));
        st.on('end', () => resolve({ headers, trailers, body: Buffer.concat(chunks) }));
        st.on('error', reject);
      });
      expect(got.headers[':status']).toBe(200);
      expect(got.headers['content-type']).toBe('application/grpc+proto');
      expect(got.trailers['grpc-status']).toBe('0');
      expect(got.body[0]).toBe(0);
      const len = got.body.readUInt32BE(1);
      expect(len).toBe(got.body.length - 5);
      expect(JSON.parse(got.body.subarray(5).toString())).toMatchObject({ message: 'raw', version: 'v2' });
    } finally {
      session.close();
    }
  });

  it('grpc: x-echo-grpc-status answers with that status code', async () => {
    const { res, err } = await grpcEcho(srv.grpcPort, { [ECHO_GRPC_STATUS_KEY]: String(grpc.status.UNAVAILABLE) });
    expect(res).toBeUndefined();
    expect(err?.code).toBe(grpc.status.UNAVAILABLE);
    expect(err?.details).toMatch(/echo-v2-abc/);
    const ok = await grpcEcho(srv.grpcPort, { [ECHO_GRPC_STATUS_KEY]: '0' });
    expect(ok.err).toBeUndefined();
  });

  it('grpc: client mode counts responses and statuses', async () => {
    const lines: Array<ClientResult | ClientSummary> = [];
    const target = `127.0.0.1:${srv.grpcPort}`;
    const s = await runClient(parseClientArgs(['--grpc', target, '--count', '5', '--concurrency', '2']), (l) => lines.push(l));
    expect(s).toMatchObject({ total: 5, ok: 5, errors: 0, byVersion: { v2: 5 }, byPod: { 'echo-v2-abc': 5 }, byStatus: { 'grpc-0': 5 } });
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatchObject({ protocol: 'gRPC', grpcStatus: 0, version: 'v2' });
    expect((lines[0] as ClientResult).peer).toMatch(/^127\.0\.0\.1:\d+$/);
    const aborted = await runClient(
      parseClientArgs(['--grpc', target, '--count', '3', '--keepalive', '--header', `${ECHO_GRPC_STATUS_KEY}: 13`]),
      () => undefined,
    );
    expect(aborted).toMatchObject({ total: 3, ok: 0, errors: 3, byStatus: { 'grpc-13': 3 } });
  });

  it('client mode counts connection errors', async () => {
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const s = await runClient(parseClientArgs(['--url', `http://127.0.0.1:${port}/`, '--count', '2']), () => undefined);
    expect(s).toMatchObject({ total: 2, errors: 2 });
    const g = await runClient(parseClientArgs(['--grpc', `127.0.0.1:${port}`, '--count', '2']), () => undefined);
    expect(g).toMatchObject({ total: 2, errors: 2, ok: 0, byStatus: { 'grpc-14': 2 } });
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
    expect(() => parseClientArgs(['--grpc', 'no-port'])).toThrow(/host:port/);
    expect(() => parseClientArgs(['--grpc', 'h:1', '--url', 'http://x/'])).toThrow(/not both/);
    expect(parseServerArgs(['--grpc-port', '0'], {}).grpcPort).toBe(0);
    expect(parseServerArgs([], {}).grpcPort).toBe(7070);
  });
});
