// DestinationRule / mesh h2UpgradePolicy end to end: the pod behind HBONE serves HTTP/1.1 and h2c (prior
// knowledge) on one port and answers with the HTTP version it was spoken to, so each case shows which
// protocol the waypoint chose upstream for a client that always speaks HTTP/1.1.
import http from 'node:http';
import http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@mesh/core';
import { waypoint as wp, type MessageInitShape } from '@mesh/api';
import { bridge, createHboneServer, type HboneServer } from '@mesh/hbone';
import { WaypointApp } from '../src/app/waypoint-app';
import { Client, contextFor, fetchFromTestCa, id, podWorkload, service, spiffe, waypointConfig } from './harness';

const H = wp.H2UpgradePolicy;
const NAMES = ['up', 'plain', 'optout', 'sniffed', 'sub'] as const;
type Name = (typeof NAMES)[number];
const host = (n: string): string => `${n}.default.svc.cluster.local`;
const vip = (n: Name): string => `10.96.3.${NAMES.indexOf(n) + 1}`;
const POD_IP = '127.0.0.6';
const H2_PREFACE = 'PRI * HTTP/2.0';

let h1: http.Server;
let h2: http2.Http2Server;
let sniff: net.Server;
let pod: HboneServer;
let app: WaypointApp;
let client: Client;

function versionEcho(req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse): void {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ version: req.httpVersion }));
  });
}

/**
 * One TCP port for both protocols: the HTTP/2 connection preface picks the h2c server. The bytes are relayed
 * to the chosen server's own port (an http2 session reads its socket natively, past any unshift()).
 */
async function startUpstream(): Promise<number> {
  h1 = http.createServer(versionEcho);
  h2 = http2.createServer(versionEcho);
  const listen = async (s: net.Server): Promise<number> => {
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return (s.address() as AddressInfo).port;
  };
  const [h1Port, h2Port] = [await listen(h1), await listen(h2)];
  sniff = net.createServer((sock) => {
    sock.once('data', (first: Buffer) => {
      const isH2 = first.toString('latin1').startsWith(H2_PREFACE.slice(0, first.length));
      const target = net.connect({ host: '127.0.0.1', port: isH2 ? h2Port : h1Port });
      target.write(first);
      sock.pipe(target).pipe(sock);
      target.once('error', () => sock.destroy());
      sock.once('error', () => target.destroy());
    });
  });
  return listen(sniff);
}

type TrafficPolicyInit = MessageInitShape<typeof wp.TrafficPolicySchema>;

function configWith(mesh: wp.H2UpgradePolicy): wp.WaypointConfig {
  const trafficPolicies: TrafficPolicyInit[] = [
    { host: host('up'), connectionPool: { h2UpgradePolicy: H.UPGRADE } },
    { host: host('optout'), connectionPool: { h2UpgradePolicy: H.DO_NOT_UPGRADE } },
    // Subset-level policy only: the route to subset v2 is upgraded, the service as a whole is not.
    { host: host('sub'), subset: 'v2', connectionPool: { h2UpgradePolicy: H.UPGRADE } },
  ];
  return waypointConfig({
    name: 'waypoint', namespace: 'default', meshH2UpgradePolicy: mesh, trafficPolicies,
    services: NAMES.map((n) => ({
      hostname: host(n), name: n, namespace: 'default', vips: [vip(n)],
      ports: [{ port: 80, targetPort: 9080, ...(n === 'sniffed' ? {} : { name: 'http', protocol: 'HTTP' }) }],
      routes: [
        ...(n === 'sub' ? [{ name: 'v2', matches: [{ path: { kind: { case: 'prefix' as const, value: '/v2' } } }], backends: [{ hostname: host(n), port: 80, weight: 1, subset: 'v2' }] }] : []),
        { name: n, backends: [{ hostname: host(n), port: 80, weight: 1 }] },
      ],
    })),
  });
}

async function upstreamVersion(n: Name, path = '/'): Promise<string> {
  const r = await client.get(`${vip(n)}:80`, path);
  expect(`${r.status} ${r.body}`).toMatch(/^200 /);
  return (JSON.parse(r.body) as { version: string }).version;
}

beforeAll(async () => {
  const upstreamPort = await startUpstream();
  pod = createHboneServer({
    secureContext: contextFor(id('default', 'pod')),
    onConnect: (req) => {
      const up = net.connect({ host: '127.0.0.1', port: upstreamPort });
      up.once('error', () => (req.responded ? undefined : req.reject(503)));
      up.once('connect', () => bridge(req.accept(), up));
    },
  });
  const podAddr = await pod.listen({ host: POD_IP, port: 0 });
  app = new WaypointApp({
    identity: id('default', 'waypoint'), fetchCertificate: fetchFromTestCa, listen: { host: '127.0.0.1', port: 0 }, upstreamHbonePort: podAddr.port,
    logger: createLogger({ component: 'waypoint-h2-upgrade-test', level: 'silent' }),
  });
  for (const n of NAMES) app.upstream.upsertService(service(n, vip(n)));
  app.upstream.upsertWorkload(podWorkload('pod', POD_IP, Object.fromEntries(NAMES.map((n) => [`default/${host(n)}`, 9080]))));
  app.setConfig(configWith(H.DEFAULT));
  await app.start();
  client = new Client(id('default', 'frontend'), app.hboneAddress!.port, spiffe('default', 'waypoint'));
});

afterAll(async () => {
  await client?.close();
  await app?.stop();
  pod?.destroy();
  sniff?.close();
  h1?.closeAllConnections();
  h1?.close();
  h2?.close();
});

describe('h2UpgradePolicy through the waypoint', () => {
  it('a DestinationRule UPGRADE sends HTTP/1.1 client requests to the upstream over h2c', async () => {
    expect(await upstreamVersion('up')).toBe('2.0');
  });

  it('a subset-level UPGRADE applies to routes to that subset only', async () => {
    expect(await upstreamVersion('sub', '/v2')).toBe('2.0');
    expect(await upstreamVersion('sub', '/')).toBe('1.1');
  });

  it('keeps HTTP/1.1 upstream under the mesh default DO_NOT_UPGRADE', async () => {
    expect(await upstreamVersion('plain')).toBe('1.1');
    expect(await upstreamVersion('sniffed')).toBe('1.1');
  });

  it('a mesh UPGRADE upgrades declared HTTP ports, not opted-out or undeclared ones', async () => {
    app.setConfig(configWith(H.UPGRADE));
    try {
      expect(await upstreamVersion('plain')).toBe('2.0');
      expect(await upstreamVersion('optout')).toBe('1.1');
      expect(await upstreamVersion('sniffed')).toBe('1.1');
      expect(await upstreamVersion('up')).toBe('2.0');
    } finally {
      app.setConfig(configWith(H.DEFAULT));
    }
  });
});
