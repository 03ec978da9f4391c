import http2 from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HboneConnectRefusedError } from '@mesh/hbone';
import { createLogger } from '@mesh/core';
import { waypoint as wp } from '@mesh/api';
import { WaypointApp } from '../src/app/waypoint-app';
import { Client, fetchFromTestCa, id, podWorkload, service, spiffe, startPods, waypointConfig, type SeenConnect } from './harness';

const REVIEWS = 'reviews.default.svc.cluster.local';
const V1 = 'reviews-v1.default.svc.cluster.local';
const V2 = 'reviews-v2.default.svc.cluster.local';
const VIP = '10.96.0.10:80';

const seen: SeenConnect[] = [];
let pods: Awaited<ReturnType<typeof startPods>>;
let app: WaypointApp;
let client: Client;

function route(name: string, prefix: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, matches: [{ path: { kind: { case: 'prefix', value: prefix } } }], backends: [{ hostname: REVIEWS, port: 80, weight: 1 }], ...extra };
}

beforeAll(async () => {
  pods = await startPods(['reviews-a', 'reviews-b'], seen);
  app = new WaypointApp({
    identity: id('default', 'waypoint'), fetchCertificate: fetchFromTestCa,
    listen: { host: '127.0.0.1', port: 0 }, upstreamHbonePort: pods.hbonePort,
    endpoints: { admin: { host: '127.0.0.1', port: 0 }, stats: { host: '127.0.0.1', port: 0 }, readiness: { host: '127.0.0.1', port: 0 } },
    logger: createLogger({ component: 'waypoint-test', level: 'silent' }),
  });
  app.upstream.upsertService(service('reviews', '10.96.0.10'));
  app.upstream.upsertService(service('reviews-v1', '10.96.0.11'));
  app.upstream.upsertService(service('reviews-v2', '10.96.0.12'));
  app.upstream.upsertWorkload(podWorkload('reviews-a', '127.0.0.2', { [`default/${REVIEWS}`]: 9080, [`default/${V1}`]: 9080 }));
  app.upstream.upsertWorkload(podWorkload('reviews-b', '127.0.0.3', { [`default/${REVIEWS}`]: 9080, [`default/${V2}`]: 9080 }));
  app.setConfig(waypointConfig({
    name: 'waypoint', namespace: 'default',
    policies: [{ name: 'default/deny-admin', action: wp.AuthorizationPolicy_Action.DENY, rules: [{ to: [{ paths: ['/admin*'] }] }] }],
    services: [{
      hostname: REVIEWS, name: 'reviews', namespace: 'default', vips: ['10.96.0.10'], ports: [{ port: 80, targetPort: 9080 }],
      routes: [
        route('split', '/split', { backends: [{ hostname: V1, port: 80, weight: 80 }, { hostname: V2, port: 80, weight: 20 }] }),
        route('flaky', '/flaky', { retries: { attempts: 2, retryOn: ['5xx'] } }),
        route('slow', '/slow', { timeoutMs: 100 }),
        route('fault', '/fault', { fault: { abort: { percent: 100, httpStatus: 418 } } }),
        route('missing', '/missing', { backends: [{ hostname: 'nope.default.svc.cluster.local', port: 80, weight: 1 }] }),
        route('rewrite', '/old', { rewrite: { path: { case: 'uriPrefix', value: '/new' } }, requestHeaders: { set: { 'x-route': 'rewrite' } }, responseHeaders: { add: { 'x-waypoint': 'yes' } } }),
        route('default', '/'),
      ],
    }],
  }));
  await app.start();
  client = new Client(id('default', 'productpage'), app.hboneAddress!.port, spiffe('default', 'waypoint'));
});

afterAll(async () => {
  await client?.close();
  await app?.stop();
  await pods?.close();
});

describe('waypoint data path', () => {
  it('forwards a GET over HBONE to podIP:targetPort under the waypoint identity', async () => {
    seen.length = 0;
    const r = await client.get(VIP, '/hello');
    expect(r.status).toBe(200);
    const body = JSON.parse(r.body) as { path: string; host: string; headers: Record<string, string> };
    expect(body.path).toBe('/hello');
    expect(body.host).toBe('reviews.default.svc.cluster.local');
    expect(body.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.at(-1)!.authority).toMatch(/^127\.0\.0\.[23]:9080$/);
    expect(seen.at(-1)!.peer).toBe(spiffe('default', 'waypoint'));
  });

  it('rewrites the path and applies request and response header ops', async () => {
    const r = await client.get(VIP, '/old/page?q=1');
    const body = JSON.parse(r.body) as { path: string; headers: Record<string, string> };
    expect(body.path).toBe('/new/page?q=1');
    expect(body.headers['x-route']).toBe('rewrite');
    expect(r.headers['x-waypoint']).toBe('yes');
  });

  it('splits traffic by weight (80/20) over 200 requests', async () => {
    const counts: Record<string, number> = {};
    for (let i = 0; i < 200; i++) {
      const r = await client.get(VIP, '/split');
      const pod = String(r.headers['x-pod']);
      counts[pod] = (counts[pod] ?? 0) + 1;
    }
    expect(counts['reviews-a']! + counts['reviews-b']!).toBe(200);
    expect(counts['reviews-a']!).toBeGreaterThan(130);
    expect(counts['reviews-a']!).toBeLessThan(190);
  }, 30_000);

  it('denies by L7 path policy with 403 RBAC: access denied', async () => {
    const r = await client.get(VIP, '/admin/users');
    expect(r.status).toBe(403);
    expect(r.body).toBe('RBAC: access denied');
  });

  it('retries hide a flaky upstream (503 once, then 200)', async () => {
    for (const p of pods.pods) p.failuresLeft.set('/flaky', 1);
    const r = await client.get(VIP, '/flaky');
    expect(r.status).toBe(200);
  });

  it('answers 504 when the route timeout expires', async () => {
    const r = await client.get(VIP, '/slow');
    expect(r.status).toBe(504);
    expect(r.body).toBe('upstream request timeout');
  });

  it('aborts with the configured fault status', async () => {
    expect((await client.get(VIP, '/fault')).status).toBe(418);
  });

  it('answers 503 no healthy upstream for a backend without endpoints', async () => {
    const r = await client.get(VIP, '/missing');
    expect(r.status).toBe(503);
    expect(r.body).toBe('no healthy upstream');
  });

  it('refuses a CONNECT to an unknown service with 503', async () => {
    const err = await client.tunnel('10.96.0.99:80').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HboneConnectRefusedError);
    expect((err as HboneConnectRefusedError).message).toContain('503');
  });

  it('answers 400 to a malformed HTTP/1 request', async () => {
    const tunnel = await client.tunnel(VIP);
    const chunks: Buffer[] = [];
    tunnel.on('data', (c: Buffer) => chunks.push(c));
    tunnel.write('GET / HTTP/1.1\r\nthis is not a header\r\n\r\n');
    await new Promise((r) => tunnel.once('close', r));
    expect(Buffer.concat(chunks).toString()).toMatch(/^HTTP\/1\.1 400/);
  });

  it('serves HTTP/2 with prior knowledge', async () => {
    const tunnel = await client.tunnel(VIP);
    const session = http2.connect('http://reviews.default.svc.cluster.local', { createConnection: () => tunnel });
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const s = session.request({ ':path': '/h2', ':method': 'GET' });
      let st = 0;
      const chunks: Buffer[] = [];
      s.on('response', (h) => {
        st = Number(h[':status']);
      });
      s.on('data', (c: Buffer) => chunks.push(c));
      s.on('end', () => resolve({ status: st, body: Buffer.concat(chunks).toString() }));
      s.on('error', reject);
      s.end();
    });
    session.close();
    expect(status).toBe(200);
    expect((JSON.parse(body) as { path: string }).path).toBe('/h2');
  });

  it('exports Istio request metrics with reporter="waypoint" and response codes', async () => {
    const res = await fetch(`${app.opsServers!.stats.url}/metrics`);
    const text = await res.text();
    expect(text).toMatch(/istio_requests_total\{[^}]*reporter="waypoint"[^}]*response_code="200"/);
    expect(text).toMatch(/istio_requests_total\{[^}]*response_code="403"/);
    expect(text).toContain(`source_principal="${spiffe('default', 'productpage')}"`);
    expect(text).toContain('destination_service="reviews.default.svc.cluster.local"');
    expect(text).toContain('connection_security_policy="mutual_tls"');
    expect(text).toContain('istio_request_duration_milliseconds_bucket');
    const ready = await fetch(`${app.opsServers!.readiness.url}/healthz/ready`);
    expect(ready.status).toBe(200);
  });
});
