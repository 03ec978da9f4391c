// CORS end to end through HBONE, as Envoy's cors filter behaves in Istio's waypoint: a matching preflight is
// answered by the waypoint, responses to allowed origins carry the Access-Control-* headers, a disallowed
// origin gets none, and an unmatched preflight is forwarded (or answered under unmatchedPreflights IGNORE).
import http2 from 'node:http2';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@mesh/core';
import { waypoint } from '@mesh/api';
import { WaypointApp } from '../src/app/waypoint-app';
import { Client, fetchFromTestCa, id, podWorkload, service, spiffe, startPods, waypointConfig, type SeenConnect } from './harness';

const ECHO = 'echo.default.svc.cluster.local';
const VIP = '10.96.5.1:80';
const APP = 'https://app.example.com';
const EVIL = 'https://evil.example';

const seen: SeenConnect[] = [];
let pods: Awaited<ReturnType<typeof startPods>>;
let app: WaypointApp;
let client: Client;

const prefix = (value: string) => [{ path: { kind: { case: 'prefix' as const, value } } }];
const cors = {
  allowOrigins: [{ kind: { case: 'exact' as const, value: APP } }],
  allowMethods: 'GET,POST,PUT',
  allowHeaders: 'authorization,content-type',
  exposeHeaders: 'x-pod',
  maxAge: '86400',
  allowCredentials: true,
};

beforeAll(async () => {
  pods = await startPods(['echo-a'], seen);
  app = new WaypointApp({
    identity: id('default', 'waypoint'), fetchCertificate: fetchFromTestCa, listen: { host: '127.0.0.1', port: 0 }, upstreamHbonePort: pods.hbonePort,
    logger: createLogger({ component: 'waypoint-cors-test', level: 'silent' }),
  });
  app.upstream.upsertService(service('echo', '10.96.5.1'));
  app.upstream.upsertWorkload(podWorkload('echo-a', '127.0.0.2', { [`default/${ECHO}`]: 9080 }));
  const to = [{ hostname: ECHO, port: 80, weight: 1 }];
  app.setConfig(waypointConfig({
    name: 'waypoint', namespace: 'default',
    services: [{
      hostname: ECHO, name: 'echo', namespace: 'default', vips: ['10.96.5.1'], ports: [{ port: 80, targetPort: 9080, protocol: 'HTTP' }],
      routes: [
        { name: 'strict', matches: prefix('/strict'), backends: to, cors: { ...cors, unmatchedPreflights: waypoint.UnmatchedPreflights.IGNORE } },
        { name: 'gone', matches: prefix('/gone'), directResponse: { status: 410, body: 'gone' }, cors },
        { name: 'default', matches: prefix('/'), backends: to, cors },
      ],
    }],
  }));
  await app.start();
  client = new Client(id('default', 'frontend'), app.hboneAddress!.port, spiffe('default', 'waypoint'));
});

afterAll(async () => {
  await client?.close();
  await app?.stop();
  await pods?.close();
});

const corsHeaders = (h: Record<string, unknown>) => Object.fromEntries(Object.entries(h).filter(([k]) => k.startsWith('access-control-')));
const podRequests = (path: string) => pods.pods[0]!.requests.filter((r) => r.path === path);

describe('CORS through the waypoint', () => {
  it('answers a matching preflight itself: 200, no body, the Allow-* headers', async () => {
    const r = await client.request(VIP, 'OPTIONS', '/api/pre', { origin: APP, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-type' });
    expect(r.status).toBe(200);
    expect(r.body).toBe('');
    expect(corsHeaders(r.headers)).toEqual({
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET,POST,PUT',
      'access-control-allow-headers': 'authorization,content-type',
      'access-control-max-age': '86400',
      'access-control-expose-headers': 'x-pod',
    });
    expect(podRequests('/api/pre')).toEqual([]);
  });

  it('forwards an actual request from an allowed origin and adds Allow-Origin, Allow-Credentials and Expose-Headers', async () => {
    const r = await client.get(VIP, '/api/actual', { origin: APP });
    expect(r.status).toBe(200);
    expect(r.headers['x-pod']).toBe('echo-a');
    expect(corsHeaders(r.headers)).toEqual({ 'access-control-allow-origin': APP, 'access-control-allow-credentials': 'true', 'access-control-expose-headers': 'x-pod' });
  });

  it('forwards a request from a disallowed origin and adds no CORS headers', async () => {
    const r = await client.get(VIP, '/api/evil', { origin: EVIL });
    expect(r.status).toBe(200);
    expect(r.headers['x-pod']).toBe('echo-a');
    expect(corsHeaders(r.headers)).toEqual({});
  });

  it('forwards an unmatched preflight upstream (unmatchedPreflights FORWARD, the default)', async () => {
    const r = await client.request(VIP, 'OPTIONS', '/api/unmatched', { origin: EVIL, 'access-control-request-method': 'PUT' });
    expect(r.status).toBe(200);
    expect((JSON.parse(r.body) as { method: string }).method).toBe('OPTIONS');
    expect(corsHeaders(r.headers)).toEqual({});
    expect(podRequests('/api/unmatched')).toHaveLength(1);
  });

  it('answers an unmatched preflight without Allow-Origin under unmatchedPreflights IGNORE', async () => {
    const r = await client.request(VIP, 'OPTIONS', '/strict/x', { origin: EVIL, 'access-control-request-method': 'PUT' });
    expect(r.status).toBe(200);
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    expect(r.headers['access-control-allow-methods']).toBe('GET,POST,PUT');
    expect(podRequests('/strict/x')).toEqual([]);
  });

  it('adds the headers to a direct response for an allowed origin too (Envoy encodes every reply through the filter)', async () => {
    const r = await client.get(VIP, '/gone', { origin: APP });
    expect(r.status).toBe(410);
    expect(r.headers['access-control-allow-origin']).toBe(APP);
  });
});

/** One HTTP/2 (prior knowledge) request through a fresh tunnel. */
async function h2(method: string, path: string, headers: Record<string, string>): Promise<{ headers: http2.IncomingHttpHeaders; body: string }> {
  const tunnel = await client.tunnel(VIP);
  const session = http2.connect('http://echo.default', { createConnection: () => tunnel as net.Socket });
  try {
    return await new Promise((resolve, reject) => {
      const req = session.request({ ':method': method, ':path': path, ...headers }, { endStream: true });
      const chunks: Buffer[] = [];
      let head: http2.IncomingHttpHeaders = {};
      req.on('response', (h) => (head = h));
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve({ headers: head, body: Buffer.concat(chunks).toString() }));
      req.on('error', reject);
    });
  } finally {
    session.close();
  }
}

describe('CORS over HTTP/2 downstream', () => {
  it('answers a matching preflight and decorates an actual response', async () => {
    const pre = await h2('OPTIONS', '/h2/pre', { origin: APP, 'access-control-request-method': 'POST' });
    expect(pre.headers[':status']).toBe(200);
    expect(pre.headers['access-control-allow-methods']).toBe('GET,POST,PUT');
    expect(podRequests('/h2/pre')).toEqual([]);
    const actual = await h2('GET', '/h2/actual', { origin: APP });
    expect(actual.headers[':status']).toBe(200);
    expect(actual.headers['x-pod']).toBe('echo-a');
    expect(corsHeaders(actual.headers)).toEqual({ 'access-control-allow-origin': APP, 'access-control-allow-credentials': 'true', 'access-control-expose-headers': 'x-pod' });
  });
});
