// Request mirroring end to end: the copy reaches the mirror service with a "-shadow" authority, carries the
// body, and never changes the main response.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@mesh/core';
import { WaypointApp } from '../src/app/waypoint-app';
import { Client, fetchFromTestCa, id, podWorkload, service, spiffe, startPods, waypointConfig, type SeenConnect } from './harness';

const MAIN = 'reviews.default.svc.cluster.local';
const SHADOW = 'reviews-shadow-copy.default.svc.cluster.local';
const VIP = '10.96.2.1:80';

let pods: Awaited<ReturnType<typeof startPods>>;
let app: WaypointApp;
let client: Client;

async function eventually(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(async () => {
  const seen: SeenConnect[] = [];
  pods = await startPods(['main', 'shadow'], seen);
  app = new WaypointApp({
    identity: id('default', 'waypoint'), fetchCertificate: fetchFromTestCa, listen: { host: '127.0.0.1', port: 0 }, upstreamHbonePort: pods.hbonePort,
    logger: createLogger({ component: 'waypoint-test', level: 'silent' }),
  });
  app.upstream.upsertService(service('reviews', '10.96.2.1'));
  app.upstream.upsertService(service('reviews-shadow-copy', '10.96.2.2'));
  app.upstream.upsertWorkload(podWorkload('main', '127.0.0.2', { [`default/${MAIN}`]: 9080 }));
  app.upstream.upsertWorkload(podWorkload('shadow', '127.0.0.3', { [`default/${SHADOW}`]: 9080 }));
  const mirrors = [{ destination: { hostname: SHADOW, port: 80 }, percent: 100 }];
  app.setConfig(waypointConfig({
    name: 'waypoint', namespace: 'default',
    services: [{
      hostname: MAIN, name: 'reviews', namespace: 'default', vips: ['10.96.2.1'], ports: [{ port: 80, targetPort: 9080 }],
      routes: [
        { name: 'never', matches: [{ path: { kind: { case: 'prefix', value: '/never' } } }], backends: [{ hostname: MAIN, port: 80, weight: 1 }], mirrors: [{ destination: { hostname: SHADOW, port: 80 }, percent: 0 }] },
        { name: 'retried', matches: [{ path: { kind: { case: 'prefix', value: '/buffered' } } }], backends: [{ hostname: MAIN, port: 80, weight: 1 }], mirrors, retries: { attempts: 1, retryOn: ['5xx'] } },
        { name: 'default', backends: [{ hostname: MAIN, port: 80, weight: 1 }], mirrors },
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

const [main, shadow] = [(): (typeof pods.pods)[0] => pods.pods[0]!, (): (typeof pods.pods)[0] => pods.pods[1]!];

describe('waypoint request mirroring', () => {
  it('copies a GET to the mirror with the -shadow authority', async () => {
    const r = await client.get(VIP, '/m1');
    expect(r.status).toBe(200);
    expect(r.headers['x-pod']).toBe('main');
    await eventually(() => shadow().requests.some((q) => q.path === '/m1'));
    expect(shadow().requests.find((q) => q.path === '/m1')!.host).toBe('reviews.default.svc.cluster.local-shadow');
    expect(main().requests.find((q) => q.path === '/m1')!.host).toBe('reviews.default.svc.cluster.local');
  });

  it('copies streamed and buffered request bodies', async () => {
    expect((await client.request(VIP, 'POST', '/post', {}, 'streamed-body')).status).toBe(200);
    expect((await client.request(VIP, 'POST', '/buffered', {}, 'buffered-body')).status).toBe(200);
    await eventually(() => shadow().requests.some((q) => q.path === '/buffered') && shadow().requests.some((q) => q.path === '/post'));
    expect(shadow().requests.find((q) => q.path === '/post')!.body).toBe('streamed-body');
    expect(main().requests.find((q) => q.path === '/post')!.body).toBe('streamed-body');
    expect(shadow().requests.find((q) => q.path === '/buffered')!.body).toBe('buffered-body');
  });

  it('a failing mirror does not affect the main response', async () => {
    shadow().failuresLeft.set('/fails', 1);
    const r = await client.get(VIP, '/fails');
    expect(r.status).toBe(200);
    await eventually(() => shadow().failuresLeft.get('/fails') === 0);
  });

  it('does not mirror at percent 0', async () => {
    expect((await client.get(VIP, '/never')).status).toBe(200);
    expect((await client.get(VIP, '/m-after')).status).toBe(200);
    await eventually(() => shadow().requests.some((q) => q.path === '/m-after'));
    expect(shadow().requests.some((q) => q.path === '/never')).toBe(false);
  });
});
