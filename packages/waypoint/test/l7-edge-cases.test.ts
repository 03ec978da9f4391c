// Issue #7 items the other end-to-end suites leave out: W3C trace context pass-through, fault delay, redirect
// and direct responses, oversized heads (431), a stalled client not stalling others, and an upstream reset
// before the response head (503 with Envoy's text).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@mesh/core';
import { createHboneServer, type HboneServer } from '@mesh/hbone';
import { WaypointApp } from '../src/app/waypoint-app';
import { Client, contextFor, fetchFromTestCa, id, podWorkload, service, spiffe, startPods, waypointConfig, type SeenConnect } from './harness';

const ECHO = 'echo.default.svc.cluster.local';
const BROKEN = 'broken.default.svc.cluster.local';
const ECHO_VIP = '10.96.4.1:80';
const BROKEN_VIP = '10.96.4.2:80';
const RESET_POD_IP = '127.0.0.7';
const DELAY_MS = 150;

const seen: SeenConnect[] = [];
let pods: Awaited<ReturnType<typeof startPods>>;
let resetPod: HboneServer;
let app: WaypointApp;
let client: Client;

const prefix = (value: string) => [{ path: { kind: { case: 'prefix' as const, value } } }];

beforeAll(async () => {
  pods = await startPods(['echo-a'], seen);
  // Accepts the tunnel, reads the request head, then drops the connection without answering.
  resetPod = createHboneServer({
    secureContext: contextFor(id('default', 'broken')),
    onConnect: (req) => {
      const s = req.accept();
      s.once('data', () => s.destroy());
    },
  });
  await resetPod.listen({ host: RESET_POD_IP, port: pods.hbonePort });
  app = new WaypointApp({
    identity: id('default', 'waypoint'), fetchCertificate: fetchFromTestCa, listen: { host: '127.0.0.1', port: 0 }, upstreamHbonePort: pods.hbonePort,
    logger: createLogger({ component: 'waypoint-edge-test', level: 'silent' }),
  });
  app.upstream.upsertService(service('echo', '10.96.4.1'));
  app.upstream.upsertService(service('broken', '10.96.4.2'));
  app.upstream.upsertWorkload(podWorkload('echo-a', '127.0.0.2', { [`default/${ECHO}`]: 9080 }));
  app.upstream.upsertWorkload(podWorkload('broken', RESET_POD_IP, { [`default/${BROKEN}`]: 9080 }));
  const to = (host: string) => [{ hostname: host, port: 80, weight: 1 }];
  app.setConfig(waypointConfig({
    name: 'waypoint', namespace: 'default',
    services: [
      {
        hostname: ECHO, name: 'echo', namespace: 'default', vips: ['10.96.4.1'], ports: [{ port: 80, targetPort: 9080, protocol: 'HTTP' }],
        routes: [
          { name: 'delay', matches: prefix('/delay'), backends: to(ECHO), fault: { delay: { percent: 100, fixedDelayMs: DELAY_MS } } },
          { name: 'moved', matches: prefix('/moved'), redirect: { uri: '/new-home', authority: 'echo.example', responseCode: 301 } },
          { name: 'gone', matches: prefix('/gone'), directResponse: { status: 410, body: 'gone for good' } },
          { name: 'default', matches: prefix('/'), backends: to(ECHO) },
        ],
      },
      {
        hostname: BROKEN, name: 'broken', namespace: 'default', vips: ['10.96.4.2'], ports: [{ port: 80, targetPort: 9080, protocol: 'HTTP' }],
        routes: [{ name: 'default', backends: to(BROKEN) }],
      },
    ],
  }));
  await app.start();
  client = new Client(id('default', 'frontend'), app.hboneAddress!.port, spiffe('default', 'waypoint'));
});

afterAll(async () => {
  await client?.close();
  await app?.stop();
  resetPod?.destroy();
  await pods?.close();
});

describe('W3C trace context', () => {
  it('passes an incoming traceparent, tracestate and x-request-id through unchanged', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const r = await client.get(ECHO_VIP, '/trace', { traceparent, tracestate: 'vendor=abc', 'x-request-id': 'req-1' });
    const headers = (JSON.parse(r.body) as { headers: Record<string, string> }).headers;
    expect(headers).toMatchObject({ traceparent, tracestate: 'vendor=abc', 'x-request-id': 'req-1' });
  });
});

describe('route actions end to end', () => {
  it('delays by the fault delay before forwarding', async () => {
    const started = performance.now();
    const r = await client.get(ECHO_VIP, '/delay');
    expect(r.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(DELAY_MS - 5);
  });

  it('redirects with the configured code and Location, keeping the query', async () => {
    const r = await client.get(ECHO_VIP, '/moved?x=1');
    expect(r.status).toBe(301);
    expect(r.headers.location).toBe('http://echo.example/new-home?x=1');
  });

  it('answers a direct response without an upstream', async () => {
    const r = await client.get(ECHO_VIP, '/gone');
    expect([r.status, r.body]).toEqual([410, 'gone for good']);
  });

  it('routes and forwards the normalised path, as it authorizes it (no route/policy split on dot segments)', async () => {
    // Raw, `/delay/..` would select the delay route; normalised it is `/gone`, the direct response.
    const gone = await client.get(ECHO_VIP, '/delay/../gone');
    expect([gone.status, gone.body]).toEqual([410, 'gone for good']);
    const r = await client.get(ECHO_VIP, '/gone/./%2e%2e/%74race?q=a/../b');
    expect(r.status).toBe(200);
    expect((JSON.parse(r.body) as { path: string }).path).toBe('/trace?q=a/../b');
  });
});

describe('bad input', () => {
  it('answers 431 itself for a head over Envoy\'s 60 KiB, without reaching the upstream', async () => {
    expect((await client.get(ECHO_VIP, '/', { 'x-big': 'a'.repeat(12 * 1024) })).status).toBe(200);
    const before = pods.pods[0]!.requests.length;
    const tunnel = await client.tunnel(ECHO_VIP);
    const chunks: Buffer[] = [];
    tunnel.on('data', (c: Buffer) => chunks.push(c));
    tunnel.on('error', () => undefined);
    tunnel.write(`GET / HTTP/1.1\r\nhost: echo\r\nx-big: ${'a'.repeat(70 * 1024)}\r\n\r\n`);
    await new Promise((r) => tunnel.once('close', r));
    expect(Buffer.concat(chunks).toString()).toMatch(/^HTTP\/1\.1 431/);
    expect(pods.pods[0]!.requests.length).toBe(before);
  });

  it('a client stuck mid-head does not stall other requests', async () => {
    const stuck = await client.tunnel(ECHO_VIP);
    stuck.on('error', () => undefined);
    stuck.write('GET /stuck HTTP/1.1\r\nhost: echo\r\nx-partial: ');
    const started = performance.now();
    expect((await client.get(ECHO_VIP, '/other')).status).toBe(200);
    expect(performance.now() - started).toBeLessThan(2_000);
    stuck.destroy();
  });

  it('answers 503 with Envoy\'s reset text when the upstream drops the connection before the head', async () => {
    const r = await client.get(BROKEN_VIP, '/');
    expect(r.status).toBe(503);
    expect(r.body).toMatch(/^upstream connect error or disconnect\/reset before headers/);
  });
});
