// gRPC end to end through the waypoint: a real @grpc/grpc-js client -> ztunnel-like TCP-to-HBONE front ->
// waypoint (GRPC port: h2c upstream inside HBONE) -> pod HBONE server -> real grpc-js server. Covers unary,
// a trailers-only error status, server streaming, client streaming, bidi streaming, metadata and the metrics
// labels and gRPC message counters.
import net, { type AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@mesh/core';
import { create, workload } from '@mesh/api';
import { bridge, createHboneServer, type HboneServer } from '@mesh/hbone';
import { WaypointApp } from '../src/app/waypoint-app';
import { Client, contextFor, fetchFromTestCa, id, ipBytes, podWorkload, spiffe, waypointConfig } from './harness';

const HOST = 'greeter.default.svc.cluster.local';
const VIP = '10.96.0.30';
const PORT = 50051;

const raw = { serialize: (b: Buffer): Buffer => b, deserialize: (b: Buffer): Buffer => b };
const def = (path: string, requestStream: boolean, responseStream: boolean): grpc.MethodDefinition<Buffer, Buffer> => ({
  path, requestStream, responseStream, requestSerialize: raw.serialize, requestDeserialize: raw.deserialize,
  responseSerialize: raw.serialize, responseDeserialize: raw.deserialize,
});
const SERVICE = {
  hello: def('/test.Greeter/Hello', false, false),
  fail: def('/test.Greeter/Fail', false, false),
  count: def('/test.Greeter/Count', false, true),
  sum: def('/test.Greeter/Sum', true, false),
  slow: def('/test.Greeter/Slow', false, false),
  endless: def('/test.Greeter/Endless', false, true),
  echo: def('/test.Greeter/Echo', true, true),
  /** Sum on a route with retries: the waypoint buffers the request body to replay it. */
  sumRetried: def('/test.Greeter/SumRetried', true, false),
};

let grpcServer: grpc.Server;
let pod: HboneServer;
let app: WaypointApp;
let client: Client;
let front: net.Server;
type Call = (...a: unknown[]) => unknown;
let stub: grpc.Client & { hello: Call; fail: Call; count: Call; sum: Call; slow: Call; endless: Call; echo: Call; sumRetried: Call };
const podAuthorities: string[] = [];
let slowCancelled = false;
let endlessCancelled = false;

function sum(call: grpc.ServerReadableStream<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>): void {
  let total = 0;
  call.on('data', (b: Buffer) => (total += Number(b.toString())));
  call.on('end', () => cb(null, Buffer.from(String(total))));
}

function startGrpcServer(): Promise<number> {
  grpcServer = new grpc.Server();
  grpcServer.addService(SERVICE, {
    hello: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const who = String(call.metadata.get('x-who')[0] ?? '?');
      const md = new grpc.Metadata();
      md.set('x-served-by', 'greeter');
      call.sendMetadata(md);
      cb(null, Buffer.from(`hello ${call.request.toString()} from ${who}`));
    },
    fail: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      cb({ code: grpc.status.NOT_FOUND, details: 'no such greeting' });
    },
    count: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      const n = Number(call.request.toString());
      for (let i = 1; i <= n; i++) call.write(Buffer.from(String(i)));
      call.end();
    },
    slow: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const timer = setTimeout(() => cb(null, Buffer.from('late')), 2_000);
      call.on('cancelled', () => {
        slowCancelled = true;
        clearTimeout(timer);
      });
    },
    endless: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      const timer = setInterval(() => call.write(Buffer.from('tick')), 5);
      call.on('cancelled', () => {
        endlessCancelled = true;
        clearInterval(timer);
      });
    },
    echo: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.on('data', (b: Buffer) => call.write(b));
      call.on('end', () => call.end());
    },
    sum,
    sumRetried: sum,
  });
  return new Promise((resolve, reject) => {
    grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port)));
  });
}

beforeAll(async () => {
  const grpcPort = await startGrpcServer();
  pod = createHboneServer({
    secureContext: contextFor(id('default', 'greeter')),
    onConnect: (req) => {
      podAuthorities.push(req.authority);
      const up = net.connect({ host: '127.0.0.1', port: grpcPort });
      up.setNoDelay(true);
      up.once('error', () => (req.responded ? undefined : req.reject(503)));
      up.once('connect', () => bridge(req.accept(), up));
    },
  });
  const podAddr = await pod.listen({ host: '127.0.0.4', port: 0 });
  app = new WaypointApp({
    identity: id('default', 'waypoint'), fetchCertificate: fetchFromTestCa,
    listen: { host: '127.0.0.1', port: 0 }, upstreamHbonePort: podAddr.port,
    endpoints: { admin: { host: '127.0.0.1', port: 0 }, stats: { host: '127.0.0.1', port: 0 }, readiness: { host: '127.0.0.1', port: 0 } },
    logger: createLogger({ component: 'waypoint-grpc-test', level: 'silent' }),
  });
  app.upstream.upsertService(create(workload.ServiceSchema, {
    name: 'greeter', namespace: 'default', hostname: HOST, addresses: [{ network: '', address: ipBytes(VIP) }],
    ports: [{ servicePort: PORT, targetPort: 9090 }],
  }));
  const w = podWorkload('greeter', '127.0.0.4', {});
  w.services[`default/${HOST}`] = create(workload.PortListSchema, { ports: [{ servicePort: PORT, targetPort: 9090 }] });
  app.upstream.upsertWorkload(w);
  app.setConfig(waypointConfig({
    name: 'waypoint', namespace: 'default',
    services: [{
      hostname: HOST, name: 'greeter', namespace: 'default', vips: [VIP], ports: [{ port: PORT, targetPort: 9090, name: 'grpc', protocol: 'GRPC' }],
      routes: [
        { name: 'slow', timeoutMs: 150, matches: [{ path: { kind: { case: 'exact', value: '/test.Greeter/Slow' } } }], backends: [{ hostname: HOST, port: PORT, weight: 1 }] },
        { name: 'retried', retries: { attempts: 2, retryOn: ['5xx'] }, matches: [{ path: { kind: { case: 'exact', value: '/test.Greeter/SumRetried' } } }], backends: [{ hostname: HOST, port: PORT, weight: 1 }] },
        { name: 'default', matches: [{ path: { kind: { case: 'prefix', value: '/' } } }], backends: [{ hostname: HOST, port: PORT, weight: 1 }] },
      ],
    }],
  }));
  await app.start();
  client = new Client(id('default', 'frontend'), app.hboneAddress!.port, spiffe('default', 'waypoint'));
  // The source ztunnel: each TCP connection from the gRPC client becomes one HBONE tunnel to the waypoint.
  front = net.createServer((sock) => {
    sock.setNoDelay(true);
    sock.pause();
    client.tunnel(`${VIP}:${PORT}`).then((tunnel) => {
      bridge(sock, tunnel);
      sock.resume();
    }, () => sock.destroy());
  });
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  const Ctor = grpc.makeGenericClientConstructor(SERVICE, 'Greeter');
  stub = new Ctor(`127.0.0.1:${(front.address() as AddressInfo).port}`, grpc.credentials.createInsecure()) as unknown as typeof stub;
});

afterAll(async () => {
  stub?.close();
  front?.close();
  await client?.close();
  await app?.stop();
  pod?.destroy();
  grpcServer?.forceShutdown();
});

function unary(method: 'hello' | 'fail' | 'slow', body: string, md = new grpc.Metadata()): Promise<{ reply?: string; err?: grpc.ServiceError; headers?: grpc.Metadata }> {
  return new Promise((resolve) => {
    let headers: grpc.Metadata | undefined;
    const call = stub[method](Buffer.from(body), md, (err: grpc.ServiceError | null, reply?: Buffer) => {
      resolve(err ? { err, headers } : { reply: reply!.toString(), headers });
    }) as grpc.ClientUnaryCall;
    call.on('metadata', (m: grpc.Metadata) => (headers = m));
  });
}

/** The waypoint's /metrics text. */
async function scrape(): Promise<string> {
  return (await fetch(`${app.opsServers!.stats.url}/metrics`)).text();
}

/** Sum of a counter over the greeter's series with these labels (`grpc_response_status="0",response_flags="-"`). */
function counter(text: string, name: string, labels: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) || !line.includes(`destination_service="${HOST}"`) || !line.includes(labels)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

interface Counts {
  requests: number;
  requestMessages: number;
  responseMessages: number;
}

function counts(text: string, labels: string): Counts {
  return {
    requests: counter(text, 'istio_requests_total', labels),
    requestMessages: counter(text, 'istio_request_messages_total', labels),
    responseMessages: counter(text, 'istio_response_messages_total', labels),
  };
}

const ok = (grpcStatus: string): string => `grpc_response_status="${grpcStatus}",response_flags="-"`;

/** What `call` added to the counters of the series with `labels` (waiting for the waypoint to record its requests). */
async function delta(labels: string, calls: number, call: () => Promise<unknown>): Promise<Counts> {
  const before = counts(await scrape(), labels);
  await call();
  const deadline = Date.now() + 2_000;
  let after = counts(await scrape(), labels);
  while (after.requests < before.requests + calls && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    after = counts(await scrape(), labels);
  }
  return {
    requests: after.requests - before.requests,
    requestMessages: after.requestMessages - before.requestMessages,
    responseMessages: after.responseMessages - before.responseMessages,
  };
}

describe('gRPC through the waypoint (h2c upstream on a GRPC port)', () => {
  it('forwards a unary call with request and response metadata', async () => {
    const md = new grpc.Metadata();
    md.set('x-who', 'frontend');
    const r = await unary('hello', 'world', md);
    expect(r.err).toBeUndefined();
    expect(r.reply).toBe('hello world from frontend');
    expect(r.headers?.get('x-served-by')).toEqual(['greeter']);
    expect(podAuthorities).toContain('127.0.0.4:9090');
  });

  it('carries a trailers-only error status and its message', async () => {
    const r = await unary('fail', 'x');
    expect(r.err?.code).toBe(grpc.status.NOT_FOUND);
    expect(r.err?.details).toBe('no such greeting');
  });

  it('streams server responses in order and ends with OK', async () => {
    const call = stub.count(Buffer.from('50')) as grpc.ClientReadableStream<Buffer>;
    const got: string[] = [];
    call.on('data', (b: Buffer) => got.push(b.toString()));
    const status = await new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    expect(status.code).toBe(grpc.status.OK);
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => String(i + 1)));
  });

  it('streams client requests', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const call = stub.sum((err: grpc.ServiceError | null, r?: Buffer) => (err ? reject(err) : resolve(r!.toString()))) as grpc.ClientWritableStream<Buffer>;
      for (let i = 1; i <= 10; i++) call.write(Buffer.from(String(i)));
      call.end();
    });
    expect(reply).toBe('55');
  });

  it('answers a route timeout and cancels the upstream stream', async () => {
    const r = await unary('slow', 'x');
    // The 504 local reply reaches grpc-js as UNAVAILABLE (gRPC's HTTP-status mapping, as Envoy's 504 does).
    expect(r.err?.code).toBe(grpc.status.UNAVAILABLE);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(slowCancelled).toBe(true);
  });

  it('cancels the upstream stream when the client cancels a server stream', async () => {
    const call = stub.endless(Buffer.from('')) as grpc.ClientReadableStream<Buffer>;
    call.on('error', () => undefined);
    await new Promise((resolve) => call.once('data', resolve));
    call.cancel();
    const deadline = Date.now() + 2_000;
    while (!endlessCancelled && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(endlessCancelled).toBe(true);
  });

  it('reuses one upstream HTTP/2 session for many calls', async () => {
    const before = podAuthorities.length;
    await Promise.all(Array.from({ length: 20 }, (_, i) => unary('hello', String(i))));
    expect(podAuthorities.length).toBe(before);
  });

  it('records grpc request metrics with the grpc status', async () => {
    const text = await (await fetch(`${app.opsServers!.stats.url}/metrics`)).text();
    expect(text).toMatch(/istio_requests_total\{[^}]*destination_service="greeter\.default\.svc\.cluster\.local"[^}]*request_protocol="grpc",response_code="200",grpc_response_status="0",response_flags="-"/);
    expect(text).toMatch(/istio_requests_total\{[^}]*request_protocol="grpc",response_code="200",grpc_response_status="5",response_flags="-"/);
  });

  it('counts gRPC messages per direction with the request labels: unary, trailers-only, client, server and bidi streams', async () => {
    expect(await delta(ok('0'), 1, () => unary('hello', 'world'))).toEqual({ requests: 1, requestMessages: 1, responseMessages: 1 });
    // A trailers-only error: the request message was sent, none came back.
    expect(await delta(ok('5'), 1, () => unary('fail', 'x'))).toEqual({ requests: 1, requestMessages: 1, responseMessages: 0 });
    const clientStream = (method: 'sum' | 'sumRetried') => () => new Promise<void>((resolve, reject) => {
      const call = stub[method]((err: grpc.ServiceError | null) => (err ? reject(err) : resolve())) as grpc.ClientWritableStream<Buffer>;
      for (let i = 1; i <= 10; i++) call.write(Buffer.from(String(i)));
      call.end();
    });
    expect(await delta(ok('0'), 1, clientStream('sum'))).toEqual({ requests: 1, requestMessages: 10, responseMessages: 1 });
    // Counted as the buffered body is read, not again per try.
    expect(await delta(ok('0'), 1, clientStream('sumRetried'))).toEqual({ requests: 1, requestMessages: 10, responseMessages: 1 });
    const serverStream = await delta(ok('0'), 1, () => new Promise<void>((resolve) => {
      const call = stub.count(Buffer.from('50')) as grpc.ClientReadableStream<Buffer>;
      call.on('data', () => undefined);
      call.on('status', () => resolve());
    }));
    expect(serverStream).toEqual({ requests: 1, requestMessages: 1, responseMessages: 50 });
    // Bidi with one message larger than an HTTP/2 frame, so prefixes and payloads straddle DATA frames.
    const sizes = [1, 0, 100_000, 7, 3];
    const bidi = await delta(ok('0'), 1, () => new Promise<void>((resolve, reject) => {
      const call = stub.echo() as grpc.ClientDuplexStream<Buffer, Buffer>;
      let got = 0;
      call.on('data', () => got++);
      call.on('error', reject);
      call.on('status', () => (got === sizes.length ? resolve() : reject(new Error(`echoed ${got}`))));
      for (const n of sizes) call.write(Buffer.alloc(n, 1));
      call.end();
    }));
    expect(bidi).toEqual({ requests: 1, requestMessages: sizes.length, responseMessages: sizes.length });
  });

  it('counts the messages of a server stream the client cancelled (no grpc status)', async () => {
    let received = 0;
    const cancelled = await delta('grpc_response_status="",', 1, () => new Promise<void>((resolve) => {
      const call = stub.endless(Buffer.from('')) as grpc.ClientReadableStream<Buffer>;
      call.on('error', () => resolve());
      call.on('data', () => {
        if (++received === 5) call.cancel();
      });
    }));
    expect(cancelled.requests).toBe(1);
    expect(cancelled.requestMessages).toBe(1);
    // The waypoint may have relayed a few more ticks than the client read before its cancel arrived.
    expect(cancelled.responseMessages).toBeGreaterThanOrEqual(received);
    expect(cancelled.responseMessages).toBeLessThan(received + 200);
    // The client went away before the response ended: Envoy's DC (downstream connection termination).
    const text = await (await fetch(`${app.opsServers!.stats.url}/metrics`)).text();
    expect(text).toMatch(/istio_requests_total\{[^}]*grpc_response_status="",response_flags="DC"/);
  });
});
