import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { create, waypoint, workload, WorkloadSchema } from '@mesh/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Http1Pool } from '../http1/index';
import { UpstreamState, type HboneAgents } from '../upstream/index';
import { Mirrors, MIRRORS_IN_FLIGHT_MAX, sampledMirrors, shadowAuthority } from './mirror';

describe('shadowAuthority', () => {
  it('suffixes the host before the port', () => {
    expect(shadowAuthority('reviews')).toBe('reviews-shadow');
    expect(shadowAuthority('reviews.default:8080')).toBe('reviews.default-shadow:8080');
    expect(shadowAuthority('[fd00::1]:80')).toBe('[fd00::1]-shadow:80');
  });
});

describe('sampledMirrors', () => {
  it('samples each mirror by its percent', () => {
    const route = create(waypoint.RouteSchema, { mirrors: [{ destination: { hostname: 'a' }, percent: 30 }, { destination: { hostname: 'b' }, percent: 100 }] });
    expect(sampledMirrors(route, () => 0.2).map((m) => m.destination!.hostname)).toEqual(['a', 'b']);
    expect(sampledMirrors(route, () => 0.5).map((m) => m.destination!.hostname)).toEqual(['b']);
  });
});

describe('Mirrors', () => {
  let hanging: http.Server;
  let received = 0;

  beforeAll(async () => {
    hanging = http.createServer(() => {
      received++;
    });
    await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
  });

  afterAll(() => {
    hanging.closeAllConnections();
    hanging.close();
  });

  it('bounds the copies in flight and drops the excess', async () => {
    const port = (hanging.address() as AddressInfo).port;
    const upstream = new UpstreamState();
    upstream.upsertService(create(workload.ServiceSchema, { name: 'm', namespace: 'default', hostname: 'm.default.svc.cluster.local', ports: [{ servicePort: 80, targetPort: port }] }));
    upstream.upsertWorkload(create(WorkloadSchema, {
      uid: 'w', name: 'w', namespace: 'default', addresses: [new Uint8Array([127, 0, 0, 1])],
      services: { 'default/m.default.svc.cluster.local': { ports: [{ servicePort: 80, targetPort: port }] } },
    }));
    const pool = new Http1Pool(() => new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
      s.once('error', reject);
    }));
    const mirrors = new Mirrors({ upstream, agents: { poolFor: () => pool } as unknown as HboneAgents });
    const mirror = create(waypoint.MirrorSchema, { destination: { hostname: 'm.default.svc.cluster.local', port: 80 }, percent: 100 });
    for (let i = 0; i < MIRRORS_IN_FLIGHT_MAX + 10; i++) {
      mirrors.fire([mirror], { method: 'GET', path: '/x', headers: { host: 'm' }, port: 80, body: Promise.resolve(undefined) });
    }
    expect(mirrors.active).toBe(MIRRORS_IN_FLIGHT_MAX);
    expect(mirrors.droppedCount).toBe(10);
    const until = Date.now() + 2000;
    while (received < MIRRORS_IN_FLIGHT_MAX && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(received).toBe(MIRRORS_IN_FLIGHT_MAX);
    pool.destroy();
  });
});
