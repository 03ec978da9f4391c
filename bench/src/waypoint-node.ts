// Processes of the L7 benchmark's waypoint path (bundled by l7.mjs), one role each so the waypoint's CPU is
// measured alone. All sign their certificates with the same openssl CA (bench/src/certs.mjs).
//  - back:     the destination's ztunnel stand-in: an HBONE server on 127.0.0.2 terminating every tunnel into
//              the shared upstream HTTP server (as the pod's ztunnel inbound would).
//  - waypoint: the real WaypointApp with injected state: one service (VIP 10.96.0.10:80) backed by one
//              workload at 127.0.0.2, one route, an L7 ALLOW AuthorizationPolicy, request metrics on.
//  - front:    the source ztunnel stand-in: plain TCP listener for the load generator; each accepted
//              connection becomes one HBONE CONNECT (pooled HTTP/2 over mTLS) to the waypoint, as ztunnel
//              sends traffic for a waypoint-enrolled service.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import type { SecureContext } from 'node:tls';
import { create, waypoint as wp, workload, WorkloadSchema } from '@mesh/api';
import { createLogger } from '@mesh/core';
import { bridge, createHboneSecureContext, createHboneServer, HbonePool } from '@mesh/hbone';
import { buildCsr, CertificateAuthority, generateWorkloadKey, privateKeyToPem, type FetchCertificate, type Identity } from '@mesh/identity';
import { WaypointApp } from '@mesh/waypoint';

interface Opts {
  role: 'back' | 'waypoint' | 'front';
  caCertFile: string;
  caKeyFile: string;
  upstreamPort?: number;
  backPort?: number;
  waypointPort?: number;
  /** Protocol of the service port in the waypoint's config ('' = auto-detected HTTP; 'TCP' = L4 relay floor). */
  portProtocol?: string;
}

const TD = 'cluster.local';
export const VIP = '10.96.0.10';
export const HOST = 'echo.default.svc.cluster.local';
const POD_IP = '127.0.0.2';

const o = JSON.parse(process.env['BENCH_WP'] ?? '{}') as Opts;
const caCert = readFileSync(o.caCertFile, 'utf8');
const ca = CertificateAuthority.fromPem({ caCertPem: caCert, caKeyPem: readFileSync(o.caKeyFile, 'utf8'), rootCertPem: caCert });
const id = (ns: string, sa: string): Identity => ({ trustDomain: TD, namespace: ns, serviceAccount: sa });
const fetchCertificate: FetchCertificate = (req) => Promise.resolve(ca.issueWorkloadCert({ identity: req.identity, csrPem: req.csrPem }).certChainPem);

function contextFor(identity: Identity): SecureContext {
  const keys = generateWorkloadKey();
  const chain = ca.issueWorkloadCert({ identity, csrPem: buildCsr(identity, keys.privateKey, keys.publicKey) }).certChainPem;
  return createHboneSecureContext({ key: privateKeyToPem(keys.privateKey), certChain: chain.slice(0, -1).join('\n'), roots: chain[chain.length - 1] as string });
}

const ip = (s: string): Uint8Array => new Uint8Array(s.split('.').map(Number));

async function back(): Promise<void> {
  const server = createHboneServer({
    secureContext: contextFor(id('default', 'echo')),
    onConnect: (req) => {
      const up = net.connect({ host: '127.0.0.1', port: o.upstreamPort as number });
      up.setNoDelay(true);
      up.once('error', () => (req.responded ? undefined : req.reject(503)));
      up.once('connect', () => bridge(req.accept(), up));
    },
  });
  const addr = await server.listen({ host: POD_IP, port: 0 });
  process.stdout.write(`READY ${addr.port}\n`);
}

async function waypoint(): Promise<void> {
  const app = new WaypointApp({
    identity: id('default', 'waypoint'), fetchCertificate,
    listen: { host: '127.0.0.1', port: 0 }, upstreamHbonePort: o.backPort as number,
    endpoints: { admin: { host: '127.0.0.1', port: 0 }, stats: { host: '127.0.0.1', port: 0 }, readiness: { host: '127.0.0.1', port: 0 } },
    logger: createLogger({ component: 'waypoint-bench', level: 'warn' }),
  });
  app.upstream.upsertService(create(workload.ServiceSchema, {
    name: 'echo', namespace: 'default', hostname: HOST, addresses: [{ network: '', address: ip(VIP) }], ports: [{ servicePort: 80, targetPort: 8080 }],
  }));
  app.upstream.upsertWorkload(create(WorkloadSchema, {
    uid: 'uid-echo', name: 'echo', namespace: 'default', serviceAccount: 'echo', addresses: [ip(POD_IP)], workloadName: 'echo',
    // In the mesh (captured by ztunnel): the waypoint reaches it over HBONE, through the "back" stand-in.
    tunnelProtocol: workload.TunnelProtocol.HBONE,
    canonicalName: 'echo', canonicalRevision: 'v1', services: { [`default/${HOST}`]: { ports: [{ servicePort: 80, targetPort: 8080 }] } },
  }));
  app.setConfig(create(wp.WaypointConfigSchema, {
    name: 'waypoint', namespace: 'default',
    policies: [{
      name: 'default/allow-client', action: wp.AuthorizationPolicy_Action.ALLOW,
      // An L4 run (TCP port) cannot match method/path (Istio drops such ALLOW rules from TCP chains): principal only.
      rules: [{ from: [{ principals: [`${TD}/ns/default/sa/client`] }], to: o.portProtocol === 'TCP' ? [] : [{ methods: ['GET', 'POST'], paths: ['/*'] }] }],
    }],
    services: [{
      hostname: HOST, name: 'echo', namespace: 'default', vips: [VIP], ports: [{ port: 80, targetPort: 8080, protocol: o.portProtocol ?? '' }],
      routes: [{ name: 'default', matches: [{ path: { kind: { case: 'prefix', value: '/' } } }], backends: [{ hostname: HOST, port: 80, weight: 1 }] }],
    }],
  }));
  await app.start();
  // A clean exit on SIGTERM lets `--cpu-prof` (NODE_OPTIONS) write the waypoint's profile.
  process.once('SIGTERM', () => process.exit(0));
  process.stdout.write(`READY ${app.hboneAddress?.port ?? 0}\n`);
}

async function front(): Promise<void> {
  const pool = new HbonePool();
  const ctx = contextFor(id('default', 'client'));
  const key = { srcIdentity: `spiffe://${TD}/ns/default/sa/client`, dstIdentities: [`spiffe://${TD}/ns/default/sa/waypoint`], nextHop: `127.0.0.1:${o.waypointPort ?? 0}`, srcIp: '' };
  const server = net.createServer((sock) => {
    sock.setNoDelay(true);
    sock.pause();
    pool.connect({ key, authority: `${VIP}:80`, headers: { forwarded: 'for="127.0.0.9"' }, tlsOptions: { secureContext: ctx } }).then(
      (tunnel) => {
        bridge(sock, tunnel);
        sock.resume();
      },
      () => sock.destroy(),
    );
    sock.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  process.stdout.write(`READY ${(server.address() as net.AddressInfo).port}\n`);
}

const roles = { back, waypoint, front };
roles[o.role]().catch((err: unknown) => {
  process.stderr.write(`${o.role} failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
