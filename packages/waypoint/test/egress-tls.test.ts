// Endpoints outside the mesh (workload tunnel_protocol NONE: ServiceEntry/WorkloadEntry endpoints, pods not in
// ambient), as the ambient egress pattern uses them: the waypoint reaches them directly over TCP, in plaintext
// by default or originating TLS when the DestinationRule says SIMPLE/MUTUAL. Real loopback upstreams (plain
// HTTP, HTTPS with client-certificate capture, HTTP/2 over TLS, a TLS echo for opaque TCP) and a test CA made
// with openssl.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo, Server } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@mesh/core';
import { create, waypoint as wp, workload, WorkloadSchema, type MessageInitShape } from '@mesh/api';
import { WaypointApp } from '../src/app/waypoint-app';
import { Client, contextFor, fetchFromTestCa, id, ipBytes, podWorkload, spiffe, startPods, waypointConfig, type SeenConnect } from './harness';

const M = wp.UpstreamTls_Mode;
const NAMES = ['plain', 'api', 'sni', 'badca', 'nofile', 'mtls', 'nocert', 'grpc', 'tcp', 'dns', 'sidecar'] as const;
type Name = (typeof NAMES)[number];
const host = (n: Name): string => `${n}.example.com`;
const vip = (n: Name): string => `240.240.0.${NAMES.indexOf(n) + 1}`;
const authority = (n: Name): string => `${vip(n)}:80`;

interface Seen {
  encrypted: boolean;
  servername?: string | false | null;
  alpn?: string | false | null;
  clientCn?: string;
  host?: string;
  httpVersion?: string;
}

let dir: string;
const pem = (f: string): string => join(dir, f);
const seen: Record<string, Seen[]> = {};
const servers: Server[] = [];
const ports: Partial<Record<Name, number>> = {};
let app: WaypointApp;
let client: Client;
// A mesh pod (tunnel_protocol HBONE) whose DestinationRule also says SIMPLE: it keeps HBONE.
const MESH_HOST = 'inmesh.default.svc.cluster.local';
const MESH_VIP = '10.96.9.1';
const connects: SeenConnect[] = [];
let pods: Awaited<ReturnType<typeof startPods>>;

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A CA, a server certificate (DNS SANs *.example.com hosts) and a client certificate; plus an unrelated CA. */
function makePki(): void {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=egress-test-ca');
  openssl('req', '-x509', ...ec, '-keyout', 'other-ca.key', '-out', 'other-ca.pem', '-days', '1', '-subj', '/CN=other-ca');
  const sign = (name: string, cn: string, ext: string): void => {
    writeFileSync(pem(`${name}.ext`), ext);
    openssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', String(Date.now()), '-days', '1', '-out', `${name}.pem`, '-extfile', `${name}.ext`);
  };
  const sans = (['api', 'badca', 'nofile', 'mtls', 'nocert', 'grpc', 'tcp'] as const).map((n) => `DNS:${host(n)}`).join(',');
  sign('server', 'api.example.com', `subjectAltName=${sans}\nextendedKeyUsage=serverAuth\n`);
  sign('client', 'waypoint-egress-client', 'extendedKeyUsage=clientAuth\n');
}

function record(name: string, s: Seen): void {
  (seen[name] ??= []).push(s);
}

function tlsSeen(sock: TLSSocket): Omit<Seen, 'host' | 'httpVersion'> {
  const cert = sock.getPeerCertificate();
  return { encrypted: true, servername: sock.servername, alpn: sock.alpnProtocol, ...(cert?.subject?.CN ? { clientCn: String(cert.subject.CN) } : {}) };
}

async function listen(s: Server): Promise<number> {
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as AddressInfo).port;
}

function answer(name: string, req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse): void {
  const sock = req.socket as TLSSocket;
  const base = sock.encrypted === true ? tlsSeen(sock) : { encrypted: false };
  record(name, { ...base, host: String(req.headers.host ?? req.headers[':authority'] ?? ''), httpVersion: req.httpVersion });
  req.resume();
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(`hello from ${name}`);
}

async function startUpstreams(): Promise<void> {
  const key = readFileSync(pem('server.key'));
  const cert = readFileSync(pem('server.pem'));
  const ca = readFileSync(pem('ca.pem'));
  ports.plain = await listen(http.createServer((q, s) => {
    if (q.url !== '/trailers') return answer('plain', q, s);
    // A small chunked response with trailers: node writes head, body and trailers in one write.
    q.resume();
    s.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum' });
    s.addTrailers({ 'x-checksum': 'abc123' });
    s.end('with trailers');
  }));
  // One HTTPS server for every TLS-originating HTTP/1 service: it asks for (but does not require) a client cert.
  const httpsPort = await listen(https.createServer({ key, cert, ca, requestCert: true, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, (q, s) => answer('https', q, s)));
  for (const n of ['api', 'sni', 'badca', 'nofile', 'mtls', 'nocert'] as const) ports[n] = httpsPort;
  ports.grpc = await listen(http2.createSecureServer({ key, cert, allowHTTP1: false }, (q, s) => answer('h2', q, s)) as unknown as Server);
  ports.tcp = await listen(tls.createServer({ key, cert }, (sock) => {
    record('tcp', tlsSeen(sock));
    sock.pipe(sock);
  }));
  ports.dns = ports.plain;
  // A sidecar-style inbound: the mesh CA's SPIFFE certificate, a client certificate required.
  const sidecarContext = contextFor(id('egress', 'we-sidecar'));
  ports.sidecar = await listen(https.createServer({ SNICallback: (_name, cb) => cb(null, sidecarContext), requestCert: true, rejectUnauthorized: true, ALPNProtocols: ['istio-peer-exchange', 'istio', 'http/1.1'] }, (q, s) => {
    const sock = q.socket as TLSSocket;
    record('sidecar', { ...tlsSeen(sock), clientCn: String(sock.getPeerCertificate().subjectaltname ?? '') });
    q.resume();
    s.writeHead(200).end('hello from sidecar');
  }));
}

/** A workload outside the mesh: no tunnel protocol (NONE), like a WorkloadEntry or a ServiceEntry endpoint. */
function externalWorkload(n: Name): workload.Workload {
  const svc = { [`egress/${host(n)}`]: { ports: [{ servicePort: 80, targetPort: ports[n]! }] } };
  const where = n === 'dns' ? { hostname: 'localhost' } : { addresses: [ipBytes('127.0.0.1')] };
  return create(WorkloadSchema, { uid: `we-${n}`, name: `we-${n}`, namespace: 'egress', serviceAccount: `we-${n}`, workloadName: `we-${n}`, ...where, services: svc });
}

type PolicyInit = MessageInitShape<typeof wp.TrafficPolicySchema>;
const source = { kind: 'DestinationRule', namespace: 'egress', name: 'egress-tls' };
function policies(): PolicyInit[] {
  return [
    { host: host('api'), source, tls: { mode: M.SIMPLE, caCertificates: pem('ca.pem') } },
    { host: host('sni'), source, tls: { mode: M.SIMPLE, sni: 'custom.example.com', subjectAltNames: ['api.example.com'], caCertificates: pem('ca.pem') } },
    { host: host('badca'), source, tls: { mode: M.SIMPLE, caCertificates: pem('other-ca.pem') } },
    { host: host('nofile'), source, tls: { mode: M.SIMPLE, caCertificates: pem('missing-ca.pem') } },
    { host: host('mtls'), source, tls: { mode: M.MUTUAL, caCertificates: pem('ca.pem'), clientCertificate: pem('client.pem'), privateKey: pem('client.key') } },
    { host: host('nocert'), source, tls: { mode: M.MUTUAL, caCertificates: pem('ca.pem') } },
    { host: host('grpc'), source, tls: { mode: M.SIMPLE, caCertificates: pem('ca.pem') } },
    { host: host('tcp'), source, tls: { mode: M.SIMPLE, caCertificates: pem('ca.pem') } },
    { host: host('sidecar'), source, tls: { mode: M.ISTIO_MUTUAL } },
    { host: MESH_HOST, source, tls: { mode: M.SIMPLE, caCertificates: pem('other-ca.pem') } },
  ];
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wp-egress-tls-'));
  makePki();
  await startUpstreams();
  pods = await startPods(['inmesh'], connects);
  app = new WaypointApp({
    identity: id('default', 'waypoint'), fetchCertificate: fetchFromTestCa, listen: { host: '127.0.0.1', port: 0 }, upstreamHbonePort: pods.hbonePort,
    logger: createLogger({ component: 'waypoint-test', level: 'silent' }),
  });
  for (const n of NAMES) {
    const protocol = n === 'grpc' ? workload.AppProtocol.GRPC : n === 'tcp' ? workload.AppProtocol.TCP : workload.AppProtocol.HTTP11;
    app.upstream.upsertService(create(workload.ServiceSchema, {
      name: n, namespace: 'egress', hostname: host(n), addresses: [{ network: '', address: ipBytes(vip(n)) }], ports: [{ servicePort: 80, targetPort: 0, appProtocol: protocol }],
    }));
    app.upstream.upsertWorkload(externalWorkload(n));
  }
  app.upstream.upsertService(create(workload.ServiceSchema, {
    name: 'inmesh', namespace: 'default', hostname: MESH_HOST, addresses: [{ network: '', address: ipBytes(MESH_VIP) }], ports: [{ servicePort: 80, targetPort: 9080 }],
  }));
  app.upstream.upsertWorkload(podWorkload('inmesh', pods.pods[0]!.ip, { [`default/${MESH_HOST}`]: 9080 }));
  app.setConfig(waypointConfig({
    name: 'waypoint', namespace: 'default', trafficPolicies: policies(),
    services: [
      ...NAMES.map((n) => ({
        hostname: host(n), name: n, namespace: 'egress', vips: [vip(n)],
        ports: [{ port: 80, protocol: n === 'grpc' ? 'GRPC' : n === 'tcp' ? 'TCP' : 'HTTP' }],
        routes: [{ name: n, backends: [{ hostname: host(n), port: 80, weight: 1 }] }],
      })),
      {
        hostname: MESH_HOST, name: 'inmesh', namespace: 'default', vips: [MESH_VIP], ports: [{ port: 80, protocol: 'HTTP' }],
        routes: [{ name: 'inmesh', backends: [{ hostname: MESH_HOST, port: 80, weight: 1 }] }],
      },
    ],
  }));
  await app.start();
  client = new Client(id('default', 'productpage'), app.hboneAddress!.port, spiffe('default', 'waypoint'));
});

afterAll(async () => {
  for (const s of servers) {
    (s as http.Server).closeAllConnections?.();
    s.close();
  }
  await Promise.all([client?.close(), app?.stop(), pods?.close()]);
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

const last = (name: string): Seen | undefined => seen[name]?.at(-1);

/** Writes raw bytes through a tunnel to the service; resolves what came back once `complete` says so. */
async function exchange(n: Name, data: string, complete: (got: string) => boolean): Promise<string> {
  const tunnel = await client.tunnel(authority(n));
  try {
    return await new Promise<string>((resolve, reject) => {
      let got = '';
      tunnel.on('data', (c: Buffer) => {
        got += c.toString();
        if (complete(got)) resolve(got);
      });
      tunnel.once('error', reject);
      tunnel.write(data);
    });
  } finally {
    tunnel.destroy();
  }
}

describe('waypoint to endpoints outside the mesh', () => {
  it('forwards the trailers of an HTTP/1.1 response that arrived whole in one read (chunked downstream)', async () => {
    const raw = await exchange('plain', `GET /trailers HTTP/1.1\r\nhost: ${host('plain')}\r\n\r\n`, (got) => got.endsWith('\r\n\r\n') && got.includes('\r\n0\r\n'));
    expect(raw).toMatch(/^HTTP\/1\.1 200 /);
    expect(raw.toLowerCase()).toContain('transfer-encoding: chunked');
    expect(raw).toContain('with trailers');
    expect(raw.toLowerCase()).toContain('\r\n0\r\nx-checksum: abc123\r\n\r\n');
  });

  it('reaches a NONE-tunnel endpoint directly, in plaintext, without a DestinationRule', async () => {
    const r = await client.get(authority('plain'), '/', { host: host('plain') });
    expect(r.status).toBe(200);
    expect(r.body).toBe('hello from plain');
    expect(last('plain')).toMatchObject({ encrypted: false, host: host('plain') });
  });

  it('keeps HBONE for a mesh (tunnel_protocol HBONE) endpoint whatever the DestinationRule tls says', async () => {
    const r = await client.get(`${MESH_VIP}:80`, '/', { host: MESH_HOST });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ pod: 'inmesh' });
    expect(connects.at(-1)).toMatchObject({ pod: 'inmesh', authority: `${pods.pods[0]!.ip}:9080`, peer: spiffe('default', 'waypoint') });
  });

  it('resolves a hostname (DNS) workload when connecting', async () => {
    const before = seen.plain?.length ?? 0;
    const r = await client.get(authority('dns'), '/', { host: host('dns') });
    expect(r.status).toBe(200);
    expect(seen.plain!.length).toBe(before + 1);
    expect(last('plain')).toMatchObject({ encrypted: false, host: host('dns') });
  });

  it('SIMPLE: originates TLS with the service host as SNI, verified against caCertificates', async () => {
    const r = await client.get(authority('api'), '/v1', { host: host('api') });
    expect(r.status).toBe(200);
    expect(r.body).toBe('hello from https');
    expect(last('https')).toMatchObject({ encrypted: true, servername: 'api.example.com', alpn: 'http/1.1', host: host('api') });
    expect(last('https')!.clientCn).toBeUndefined();
  });

  it('SIMPLE: sends the configured sni and checks subjectAltNames instead of the server name', async () => {
    const r = await client.get(authority('sni'), '/', { host: host('sni') });
    expect(r.status).toBe(200);
    expect(last('https')).toMatchObject({ servername: 'custom.example.com' });
  });

  it('a server certificate from another CA fails: 503 UF naming the TLS error', async () => {
    const n = seen.https?.length ?? 0;
    const r = await client.get(authority('badca'), '/', { host: host('badca') });
    expect(r.status).toBe(503);
    expect(r.body).toMatch(/reset reason: connection failure, transport failure reason: TLS_error: (SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE): /);
    expect(seen.https?.length ?? 0).toBe(n);
    expect(await app.registry.metrics()).toMatch(/response_flags="UF"/);
  });

  it('an unreadable caCertificates file fails with a reason naming the DestinationRule and field', async () => {
    const r = await client.get(authority('nofile'), '/', { host: host('nofile') });
    expect(r.status).toBe(503);
    expect(r.body).toContain('DestinationRule egress/egress-tls trafficPolicy.tls.caCertificates');
    expect(r.body).toContain('ENOENT');
  });

  it('MUTUAL: presents the client certificate', async () => {
    const r = await client.get(authority('mtls'), '/', { host: host('mtls') });
    expect(r.status).toBe(200);
    expect(last('https')).toMatchObject({ encrypted: true, servername: 'mtls.example.com', clientCn: 'waypoint-egress-client' });
  });

  it('MUTUAL without a client certificate fails closed (never plaintext)', async () => {
    const n = seen.https?.length ?? 0;
    const r = await client.get(authority('nocert'), '/', { host: host('nocert') });
    expect(r.status).toBe(503);
    expect(r.body).toContain('MUTUAL has no clientCertificate/privateKey');
    expect(seen.https?.length ?? 0).toBe(n);
  });

  it('GRPC/HTTP2 ports speak HTTP/2 over the originated TLS, negotiated with ALPN h2', async () => {
    const r = await client.get(authority('grpc'), '/svc/Method', { host: host('grpc') });
    expect(r.status).toBe(200);
    expect(r.body).toBe('hello from h2');
    expect(last('h2')).toMatchObject({ encrypted: true, servername: 'grpc.example.com', alpn: 'h2', httpVersion: '2.0' });
  });

  it('ISTIO_MUTUAL: the mesh mTLS to a non-HBONE (sidecar) endpoint, checked against its SPIFFE identity', async () => {
    const r = await client.get(authority('sidecar'), '/', { host: host('sidecar') });
    expect(r.body).toBe('hello from sidecar');
    expect(r.status).toBe(200);
    expect(r.body).toBe('hello from sidecar');
    expect(last('sidecar')).toMatchObject({ encrypted: true, servername: 'outbound_.80_._.sidecar.example.com', alpn: 'istio-peer-exchange' });
    expect(last('sidecar')!.clientCn).toContain(spiffe('default', 'waypoint'));
  });

  it('opaque TCP gets the same TLS origination', async () => {
    const echoed = await exchange('tcp', 'ping', (got) => got.includes('ping'));
    expect(echoed).toBe('ping');
    expect(last('tcp')).toMatchObject({ encrypted: true, servername: 'tcp.example.com', alpn: false });
  });
});
