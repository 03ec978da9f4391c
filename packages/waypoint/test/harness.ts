// Loopback mesh for waypoint tests: a test CA, upstream "pods" (HBONE servers on 127.0.0.x sharing one port,
// each terminating into its own echo HTTP server) and a ztunnel-like HBONE client.
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { SecureContext } from 'node:tls';
import { create, waypoint, workload, WorkloadSchema, type MessageInitShape } from '@mesh/api';
import { bridge, createHboneServer, createHboneSecureContext, HbonePool, type HboneServer } from '@mesh/hbone';
import { buildCsr, CertificateAuthority, generateWorkloadKey, privateKeyToPem, type FetchCertificate, type Identity } from '@mesh/identity';

export const TD = 'cluster.local';
export const ca = CertificateAuthority.selfSigned();

export const fetchFromTestCa: FetchCertificate = (req) =>
  Promise.resolve(ca.issueWorkloadCert({ identity: req.identity, csrPem: req.csrPem }).certChainPem);

export function id(ns: string, sa: string): Identity {
  return { trustDomain: TD, namespace: ns, serviceAccount: sa };
}

export function spiffe(ns: string, sa: string): string {
  return `spiffe://${TD}/ns/${ns}/sa/${sa}`;
}

export function contextFor(identity: Identity): SecureContext {
  const keys = generateWorkloadKey();
  const chain = ca.issueWorkloadCert({ identity, csrPem: buildCsr(identity, keys.privateKey, keys.publicKey) }).certChainPem;
  return createHboneSecureContext({ key: privateKeyToPem(keys.privateKey), certChain: chain.slice(0, -1).join('\n'), roots: chain[chain.length - 1]! });
}

export interface SeenConnect {
  pod: string;
  authority: string;
  peer: string | undefined;
}

export interface Pod {
  name: string;
  ip: string;
  hbone: HboneServer;
  echo: http.Server;
  /** Behaviour per path, set by tests. */
  failuresLeft: Map<string, number>;
  /** Every request the pod's server received (method, path, host, body). */
  requests: { method: string; path: string; host: string; body: string }[];
}

type Requests = Pod['requests'];

function echoServer(pod: string, failuresLeft: Map<string, number>, requests: Requests): http.Server {
  return http.createServer((req, res) => {
    const path = req.url ?? '/';
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => requests.push({ method: req.method ?? '', path, host: req.headers.host ?? '', body: Buffer.concat(chunks).toString() }));
    const left = failuresLeft.get(path) ?? 0;
    if (left > 0) {
      failuresLeft.set(path, left - 1);
      res.writeHead(503).end('flaky');
      return;
    }
    // "/slow" answers after 300 ms, "/slow/<ms>" after <ms>.
    const delay = path.startsWith('/slow') ? Number(/^\/slow\/(\d+)/.exec(path)?.[1] ?? 300) : 0;
    setTimeout(() => {
      const body = JSON.stringify({ pod, host: req.headers.host, path, method: req.method, headers: req.headers });
      res.writeHead(200, { 'content-type': 'application/json', 'x-pod': pod }).end(body);
    }, delay);
  });
}

/** Starts pods on 127.0.0.2, .3 ... all on one HBONE port (like podIP:15008). */
export async function startPods(names: string[], seen: SeenConnect[]): Promise<{ pods: Pod[]; hbonePort: number; close(): Promise<void> }> {
  const pods: Pod[] = [];
  let hbonePort = 0;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const failuresLeft = new Map<string, number>();
    const requests: Requests = [];
    const echo = echoServer(name, failuresLeft, requests);
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const echoPort = (echo.address() as AddressInfo).port;
    const hbone = createHboneServer({
      secureContext: contextFor(id('default', name)),
      onConnect: (req) => {
        seen.push({ pod: name, authority: req.authority, peer: req.peer.identity });
        const up = net.connect({ host: '127.0.0.1', port: echoPort });
        up.once('error', () => (req.responded ? undefined : req.reject(503)));
        up.once('connect', () => bridge(req.accept(), up));
      },
    });
    const ip = `127.0.0.${i + 2}`;
    const addr = await hbone.listen({ host: ip, port: hbonePort });
    hbonePort = addr.port;
    pods.push({ name, ip, hbone, echo, failuresLeft, requests });
  }
  return {
    pods, hbonePort,
    close: async () => {
      for (const p of pods) {
        p.hbone.destroy();
        p.echo.closeAllConnections();
        p.echo.close();
      }
    },
  };
}

export function ipBytes(ip: string): Uint8Array {
  return new Uint8Array(ip.split('.').map(Number));
}

export function podWorkload(name: string, ip: string, services: Record<string, number>): workload.Workload {
  return create(WorkloadSchema, {
    uid: `uid-${name}`, name, namespace: 'default', serviceAccount: name, addresses: [ipBytes(ip)], tunnelProtocol: workload.TunnelProtocol.HBONE,
    workloadName: name, canonicalName: name, canonicalRevision: 'v1',
    services: Object.fromEntries(Object.entries(services).map(([k, target]) => [k, { ports: [{ servicePort: 80, targetPort: target }] }])),
  });
}

export function service(name: string, vip: string): workload.Service {
  return create(workload.ServiceSchema, {
    name, namespace: 'default', hostname: `${name}.default.svc.cluster.local`,
    addresses: [{ network: '', address: ipBytes(vip) }], ports: [{ servicePort: 80, targetPort: 9080 }],
  });
}

export function waypointConfig(init: MessageInitShape<typeof waypoint.WaypointConfigSchema>): waypoint.WaypointConfig {
  return create(waypoint.WaypointConfigSchema, init);
}

/** The ztunnel side: HBONE CONNECT to the waypoint with the client's identity. */
export class Client {
  readonly pool = new HbonePool();
  private readonly ctx: SecureContext;

  constructor(readonly identity: Identity, private readonly waypointPort: number, private readonly waypointId: string) {
    this.ctx = contextFor(identity);
  }

  tunnel(authority: string): Promise<Duplex> {
    return this.pool.connect({
      key: { srcIdentity: `spiffe://${TD}/ns/${this.identity.namespace}/sa/${this.identity.serviceAccount}`, dstIdentities: [this.waypointId], nextHop: `127.0.0.1:${this.waypointPort}`, srcIp: '' },
      authority,
      headers: { forwarded: 'for="127.0.0.9:4444"' },
      tlsOptions: { secureContext: this.ctx },
    });
  }

  /** One HTTP/1.1 request over a fresh tunnel; resolves status, headers and body. */
  get(authority: string, path: string, headers: http.OutgoingHttpHeaders = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
    return this.request(authority, 'GET', path, headers);
  }

  /** Like get, with a method and an optional body (streamed: no content-length unless given). */
  async request(authority: string, method: string, path: string, headers: http.OutgoingHttpHeaders = {}, body?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
    const tunnel = await this.tunnel(authority);
    return new Promise((resolve, reject) => {
      const req = http.request({ createConnection: () => tunnel as net.Socket, method, path, headers: { host: 'reviews.default.svc.cluster.local', ...headers } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      });
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
