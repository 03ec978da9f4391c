// DestinationRule traffic policies end to end: connection pool circuit breaking (503 UO), outlier ejection,
// consistent-hash stickiness and maxRequestsPerConnection, through a waypoint to loopback HBONE pods.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@mesh/core';
import { waypoint as wp, type MessageInitShape } from '@mesh/api';
import { WaypointApp } from '../src/app/waypoint-app';
import { Client, fetchFromTestCa, id, podWorkload, service, spiffe, startPods, waypointConfig, type SeenConnect } from './harness';

const NAMES = ['cb', 'details', 'ratings', 'conn', 'sticky', 'tcp'] as const;
const host = (n: string): string => `${n}.default.svc.cluster.local`;
const vip = (i: number): string => `10.96.1.${i + 1}`;
const authority = (n: (typeof NAMES)[number]): string => `${vip(NAMES.indexOf(n))}:80`;

const seen: SeenConnect[] = [];
let pods: Awaited<ReturnType<typeof startPods>>;
let app: WaypointApp;
let client: Client;

type PolicyInit = MessageInitShape<typeof wp.TrafficPolicySchema>;

const policies: PolicyInit[] = [
  { host: host('cb'), connectionPool: { maxConnections: 1, maxPendingRequests: 1 } },
  { host: host('details'), outlierDetection: { consecutive5xx: 5, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 50 } },
  { host: host('ratings'), loadBalancer: { policy: wp.LoadBalancer_Policy.CONSISTENT_HASH, consistentHash: { key: { case: 'header', value: 'x-user' } } } },
  { host: host('conn'), connectionPool: { maxRequestsPerConnection: 1 } },
  {
    host: host('tcp'),
    loadBalancer: { policy: wp.LoadBalancer_Policy.CONSISTENT_HASH, consistentHash: { key: { case: 'sourceIp', value: true } } },
  },
  {
    host: host('sticky'),
    loadBalancer: { policy: wp.LoadBalancer_Policy.CONSISTENT_HASH, consistentHash: { key: { case: 'cookie', value: 'affinity' }, cookiePath: '/', cookieTtlMs: 60_000 } },
  },
];

beforeAll(async () => {
  pods = await startPods(['pod-a', 'pod-b'], seen);
  app = new WaypointApp({
    identity: id('default', 'waypoint'), fetchCertificate: fetchFromTestCa, listen: { host: '127.0.0.1', port: 0 }, upstreamHbonePort: pods.hbonePort,
    logger: createLogger({ component: 'waypoint-test', level: 'silent' }),
  });
  NAMES.forEach((n, i) => app.upstream.upsertService(service(n, vip(i))));
  const svcMap = Object.fromEntries(NAMES.map((n) => [`default/${host(n)}`, 9080]));
  app.upstream.upsertWorkload(podWorkload('pod-a', '127.0.0.2', svcMap));
  app.upstream.upsertWorkload(podWorkload('pod-b', '127.0.0.3', svcMap));
  app.setConfig(waypointConfig({
    name: 'waypoint', namespace: 'default', trafficPolicies: policies,
    services: NAMES.map((n, i) => ({
      hostname: host(n), name: n, namespace: 'default', vips: [vip(i)], ports: [{ port: 80, targetPort: 9080, ...(n === 'tcp' ? { protocol: 'TCP' } : {}) }],
      routes: [{ name: n, backends: [{ hostname: host(n), port: 80, weight: 1 }] }],
    })),
  }));
  await app.start();
  client = new Client(id('default', 'productpage'), app.hboneAddress!.port, spiffe('default', 'waypoint'));
});

afterAll(async () => {
  await client?.close();
  await app?.stop();
  await pods?.close();
});

describe('DestinationRule traffic policy', () => {
  it('trips the circuit breaker above max connections + max pending (503, x-envoy-overloaded)', async () => {
    // 1 s upstream latency keeps the slot and the pending place taken while the other requests arrive, even on
    // a loaded CI machine.
    const results = await Promise.all(Array.from({ length: 8 }, () => client.get(authority('cb'), '/slow/1000')));
    const overflow = results.filter((r) => r.status === 503);
    expect(results.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(2);
    expect(overflow.length).toBeGreaterThanOrEqual(1);
    for (const r of overflow) {
      expect(r.headers['x-envoy-overloaded']).toBe('true');
      expect(r.body).toContain('reset reason: overflow');
    }
    const stats = await app.registry.metrics();
    expect(stats).toMatch(/response_flags="UO"/);
  });

  it('ejects an endpoint after 5 consecutive 503s and sends traffic to the healthy one', async () => {
    pods.pods[0]!.failuresLeft.set('/outlier', 1000);
    const first = [];
    for (let i = 0; i < 10; i++) first.push(await client.get(authority('details'), '/outlier'));
    expect(first.filter((r) => r.status === 503).length).toBe(5);
    const after = [];
    for (let i = 0; i < 10; i++) after.push(await client.get(authority('details'), '/outlier'));
    expect(after.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(new Set(after.map((r) => r.headers['x-pod']))).toEqual(new Set(['pod-b']));
    const dump = app.clusters.snapshot().find((c) => c.name === `outbound|80||${host('details')}`);
    expect(dump?.ejected).toEqual(['127.0.0.2:9080']);
    pods.pods[0]!.failuresLeft.delete('/outlier');
  });

  it('keeps a user on one endpoint with CONSISTENT_HASH on a header', async () => {
    const owners = new Set<string>();
    for (let u = 0; u < 8; u++) {
      const seenPods = new Set<string>();
      for (let i = 0; i < 4; i++) seenPods.add(String((await client.get(authority('ratings'), '/h', { 'x-user': `user-${u}` })).headers['x-pod']));
      expect(seenPods.size).toBe(1);
      owners.add([...seenPods][0]!);
    }
    expect(owners.size).toBe(2);
  });

  it('generates the affinity cookie when absent and sticks to one endpoint with it', async () => {
    const first = await client.get(authority('sticky'), '/s');
    const setCookie = first.headers['set-cookie']?.[0] ?? '';
    expect(setCookie).toMatch(/^affinity="[0-9a-f]{16}"; Max-Age=60; Path=\/; HttpOnly$/);
    const cookie = setCookie.split(';')[0]!;
    const podsSeen = new Set([first.headers['x-pod']]);
    for (let i = 0; i < 6; i++) {
      const r = await client.get(authority('sticky'), '/s', { cookie });
      expect(r.headers['set-cookie']).toBeUndefined();
      podsSeen.add(r.headers['x-pod']);
    }
    expect(podsSeen.size).toBe(1);
  });

  it('applies the LB policy to opaque TCP too (consistent hash on the source IP)', async () => {
    const podsSeen = new Set<unknown>();
    for (let i = 0; i < 6; i++) podsSeen.add((await client.get(authority('tcp'), '/t')).headers['x-pod']);
    expect(podsSeen.size).toBe(1);
  });

  it('opens a new upstream connection per request with maxRequestsPerConnection 1', async () => {
    const count = (): number => seen.filter((s) => s.pod === 'pod-a').length;
    // Round robin alternates, so 6 requests give pod-a three. Upstream connections are pooled per endpoint,
    // so the first may reuse an idle one from earlier tests; every later one must be new (kept-alive: 0 new).
    const before = count();
    for (let i = 0; i < 6; i++) expect((await client.get(authority('conn'), '/c')).status).toBe(200);
    expect(count() - before).toBeGreaterThanOrEqual(2);
  });
});
