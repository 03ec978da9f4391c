// End to end on the real kernel: two pod netns with Istio's in-pod iptables rules, one in-process ztunnel
// per pod (as on two nodes), ZDS from a fake agent, a test CA. Bytes from an app in pod A to pod B travel
// 15001 (A) -> HBONE mTLS -> 15008 (B) -> app, with the client IP preserved.
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { create, zds } from '@mesh/api';
import { createLogger } from '@mesh/core';
import { createHboneSecureContext } from '@mesh/hbone';
import { CertificateAuthority, generateWorkloadKey, makeIdentity } from '@mesh/identity';
import { connectSocketInNetns, listenInNetns, openNetns, serverFromFd, closeFd } from '@mesh/netns';
import { meshAuthorizer, meshDecider, meshInboundResolver, ZtunnelApp } from '../src/app/index';
import { MeshState } from '../src/state/index';
import {
  createPods, deletePods, denyPortPolicy, echoRoundTrip, FakeAgent, feedState, PREFIX, podWorkload, serviceOf, strictPolicy, testCa, tmpSock, type Pod,
} from './fixtures';

const A: Pod = { ns: `${PREFIX}-a`, ip: '10.77.0.2', name: 'client', namespace: 'ns-a', sa: 'sa-a' };
const B: Pod = { ns: `${PREFIX}-b`, ip: '10.77.0.3', name: 'server', namespace: 'ns-b', sa: 'sa-b' };
const ECHO_PORT = 8080;
const DENIED_PORT = 9090;
/** An app that answers only after the client half-closed (like a server reading a request to EOF). */
const REPLY_AFTER_EOF_PORT = 8081;
const REPLY_DELAY_MS = 30;
const TD = 'cluster.local';
/** Service `echo` in B's namespace: VIP:80 -> pod B:8080. Service `empty`: a VIP without endpoints. */
const ECHO_SVC = serviceOf('echo', B.namespace, '10.96.77.10', [[80, ECHO_PORT]]);
const EMPTY_SVC = serviceOf('empty', B.namespace, '10.96.77.20', [[80, ECHO_PORT]]);
const workloadB = (): ReturnType<typeof podWorkload> =>
  podWorkload(B, 'node-1', { [`${B.namespace}/${ECHO_SVC.hostname}`]: [[80, ECHO_PORT]] });

let state: MeshState;
let ca: CertificateAuthority;
const apps: ZtunnelApp[] = [];
const agents: FakeAgent[] = [];
const echoServers: net.Server[] = [];
const echoPeers: string[] = [];

function makeApp(agentPath: string, fetch: ReturnType<typeof testCa>['fetch']): ZtunnelApp {
  const ep = { host: '127.0.0.1', port: 0 };
  return new ZtunnelApp({
    state, decide: meshDecider(state), authorize: meshAuthorizer(state), resolveInbound: meshInboundResolver(state), fetchCertificate: fetch,
    zdsPath: agentPath, trustDomain: TD, nodeName: 'node-1', ipv6Enabled: false, drainDeadlineMs: 200,
    endpoints: { admin: ep, stats: ep, readiness: ep }, logger: createLogger({ component: 'ztunnel', level: 'silent' }),
  });
}

async function echoIn(pod: Pod, port: number): Promise<void> {
  const fd = listenInNetns(openNetnsCached(pod), { host: '0.0.0.0', port });
  echoServers.push(await serverFromFd(fd, net.createServer((s) => {
    echoPeers.push(s.remoteAddress ?? '');
    s.on('error', () => undefined);
    s.pipe(s);
  })));
}

const nsFds = new Map<string, number>();
function openNetnsCached(p: Pod): number {
  let fd = nsFds.get(p.ns);
  if (fd === undefined) {
    fd = openNetns(`/var/run/netns/${p.ns}`);
    nsFds.set(p.ns, fd);
  }
  return fd;
}

/** Buffers until the client's FIN, then (a little later, so the reply races nothing) sends `reply:<request>` and ends. */
async function replyAfterEofIn(pod: Pod, port: number): Promise<void> {
  const fd = listenInNetns(openNetnsCached(pod), { host: '0.0.0.0', port });
  echoServers.push(await serverFromFd(fd, net.createServer({ allowHalfOpen: true }, (s) => {
    let req = '';
    s.setEncoding('utf8');
    s.on('error', () => undefined);
    s.on('data', (d: string) => { req += d; });
    s.on('end', () => setTimeout(() => s.end(`reply:${req}`), REPLY_DELAY_MS));
  })));
}

/** Like `nc -N`: writes the request, half-closes, and reads the reply until the server's FIN. */
function halfCloseRoundTrip(dstIp: string, port: number, payload: string, mark?: number): Promise<string> {
  return connectSocketInNetns(openNetnsCached(A), { host: dstIp, port, ...(mark ? { mark } : {}) }).then((s) => new Promise((resolve) => {
    let got = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => { got += d; });
    s.on('error', () => undefined);
    s.on('close', () => resolve(got));
    s.end(payload);
  }), () => '');
}

/** An app in pod A connecting to dst: goes through A's in-pod redirect unless marked. */
function roundTrip(dstIp: string, port: number, payload: string, mark?: number): Promise<string> {
  return echoRoundTrip(openNetnsCached(A), dstIp, port, payload, mark);
}

async function metricsOf(app: ZtunnelApp): Promise<string> {
  return app.registry.metrics();
}

beforeAll(async () => {
  deletePods(A, B);
  createPods(A, B);
  state = new MeshState();
  const c = testCa();
  ca = c.ca;
  feedState(state, [podWorkload(A, 'node-1'), workloadB()], [denyPortPolicy(B.namespace, DENIED_PORT), strictPolicy(B.namespace)], [ECHO_SVC, EMPTY_SVC]);
  for (const name of ['a', 'b']) {
    const agent = new FakeAgent(tmpSock(name));
    agents.push(agent);
    const app = makeApp(agent.path, c.fetch);
    apps.push(app);
    await app.start();
  }
  expect(await agents[0]!.addPod(A, 'uid-a')).toBe('');
  expect(await agents[1]!.addPod(B, 'uid-b')).toBe('');
  await echoIn(B, ECHO_PORT);
  await echoIn(B, DENIED_PORT);
  await replyAfterEofIn(B, REPLY_AFTER_EOF_PORT);
}, 30_000);

afterAll(async () => {
  for (const app of apps) await app.stop().catch(() => undefined);
  for (const a of agents) a.close();
  for (const s of echoServers) s.close();
  for (const fd of nsFds.values()) closeFd(fd);
  deletePods(A, B);
});

describe('in-pod ztunnel data path', () => {
  it('greets the agent with ZDS V1 and is ready once connected', async () => {
    expect(agents[0]!.hello?.version).toBe(zds.Version.V1);
    const res = await fetch(`${apps[0]!.opsServers!.readiness.url}/healthz/ready`);
    expect(res.status).toBe(200);
  });

  it('carries pod A -> pod B through HBONE with mTLS and preserves the client IP', async () => {
    const payload = 'hello through hbone '.repeat(100);
    expect(await roundTrip(B.ip, ECHO_PORT, payload)).toBe(payload);
    expect(echoPeers.at(-1)).toBe(A.ip);
    const mB = await metricsOf(apps[1]!);
    const line = mB.split('\n').find((l) => l.startsWith('istio_tcp_connections_opened_total{') && l.includes('reporter="destination"'));
    expect(line).toContain('connection_security_policy="mutual_tls"');
    expect(line).toContain(`source_principal="spiffe://${TD}/ns/${A.namespace}/sa/${A.sa}"`);
    expect(line).toContain('response_flags="-"');
    await new Promise((r) => setTimeout(r, 50));
    expect(await metricsOf(apps[1]!)).toMatch(/istio_tcp_received_bytes_total\{[^}]*reporter="destination"[^}]*\} 2000/);
    expect(await metricsOf(apps[0]!)).toMatch(/istio_tcp_sent_bytes_total\{[^}]*reporter="source"[^}]*\} 2000/);
  });

  it('keeps TCP half-close through HBONE: the reply sent after the client FIN arrives in full', async () => {
    const payload = 'request then FIN '.repeat(200);
    expect(await halfCloseRoundTrip(B.ip, REPLY_AFTER_EOF_PORT, payload)).toBe(`reply:${payload}`);
  });

  it('keeps TCP half-close on the inbound plaintext path (15006)', async () => {
    // Lift STRICT for this case only: plaintext from A (marked, so A's ztunnel is bypassed) lands on B's 15006.
    const strictName = `${B.namespace}/${strictPolicy(B.namespace).name}`;
    state.applyAuthorizations([], [strictName]);
    try {
      const payload = 'plaintext then FIN '.repeat(50);
      expect(await halfCloseRoundTrip(B.ip, REPLY_AFTER_EOF_PORT, payload, 1337)).toBe(`reply:${payload}`);
    } finally {
      feedState(state, [], [strictPolicy(B.namespace)]);
    }
  });

  it('load-balances a Service VIP (80) to pod B\'s 8080 over HBONE, labelled with the service', async () => {
    const payload = 'via the service VIP '.repeat(50);
    const before = echoPeers.length;
    expect(await roundTrip('10.96.77.10', 80, payload)).toBe(payload);
    expect(echoPeers.length).toBe(before + 1);
    expect(echoPeers.at(-1)).toBe(A.ip);
    const svcLabel = `destination_service="${ECHO_SVC.hostname}"`;
    const opened = (m: string, reporter: string): string | undefined =>
      m.split('\n').find((l) => l.startsWith('istio_tcp_connections_opened_total{') && l.includes(`reporter="${reporter}"`) && l.includes(svcLabel));
    const src = opened(await metricsOf(apps[0]!), 'source');
    expect(src).toContain(`destination_principal="spiffe://${TD}/ns/${B.namespace}/sa/${B.sa}"`);
    expect(src).toContain('destination_service_name="echo"');
    expect(opened(await metricsOf(apps[1]!), 'destination')).toContain('response_flags="-"');
  });

  it('closes a connection to a Service without healthy endpoints and counts it failed', async () => {
    const before = echoPeers.length;
    expect(await roundTrip('10.96.77.20', 80, 'x')).toBe('');
    expect(echoPeers.length).toBe(before);
    expect(await metricsOf(apps[0]!)).toMatch(
      new RegExp(`istio_tcp_connections_failed_total\\{[^}]*reporter="source"[^}]*destination_service="${EMPTY_SVC.hostname}"[^}]*response_flags="CONNECT"[^}]*\\} 1`),
    );
  });

  it('closes a connection a DENY policy refuses and counts DENY', async () => {
    expect(await roundTrip(B.ip, DENIED_PORT, 'x')).toBe('');
    expect(await metricsOf(apps[1]!)).toMatch(/istio_tcp_connections_opened_total\{[^}]*response_flags="DENY"[^}]*\} 1/);
  });

  it('refuses plaintext to B under STRICT (converted DENY without principal)', async () => {
    const before = echoPeers.length;
    expect(await roundTrip(B.ip, ECHO_PORT, 'plain', 1337)).toBe('');
    expect(echoPeers.length).toBe(before);
    expect(await metricsOf(apps[1]!)).toMatch(/istio_tcp_connections_opened_total\{[^}]*response_flags="DENY",connection_security_policy="unknown"\} 1/);
  });

  it('NACKs a ZDS Add without a netns fd', async () => {
    const req = create(zds.WorkloadRequestSchema, { payload: { case: 'add', value: { uid: 'nofd', workloadInfo: { name: 'x', namespace: 'y' } } } });
    expect(await agents[0]!.request(req)).toMatch(/exactly one netns/);
    expect(apps[0]!.workloads.has('nofd')).toBe(false);
  });

  it('answers 400 to a non-CONNECT request and closes on garbage', async () => {
    const cert = await apps[0]!.certs.get(makeIdentity(TD, A.namespace, A.sa));
    const ctx = createHboneSecureContext({ key: cert.keyPem, certChain: cert.certChainPem.join('\n'), roots: cert.rootsPem });
    expect(await h2Status(ctx, { ':method': 'GET', ':path': '/' })).toBe(400);
    expect(await h2Status(ctx, { ':method': 'CONNECT', ':authority': `10.9.9.9:${ECHO_PORT}` })).toBe(400);
    const raw = await connectSocketInNetns(openNetnsCached(A), { host: B.ip, port: 15008, mark: 1337 });
    raw.on('error', () => undefined);
    raw.write('GET / HTTP/1.1\r\n\r\n garbage');
    await new Promise((r) => raw.once('close', r));
  });

  it('fails the TLS handshake for a client certificate from a foreign CA', async () => {
    const foreign = CertificateAuthority.selfSigned();
    const key = generateWorkloadKey();
    const issued = foreign.issueWorkloadCert({ identity: makeIdentity(TD, A.namespace, A.sa), publicKey: key.publicKey });
    const ctx = createHboneSecureContext({
      key: key.privateKey.export({ type: 'pkcs8', format: 'pem' }), certChain: issued.certChainPem.slice(0, -1).join('\n'), roots: ca.rootCertPem,
    });
    await expect(h2Status(ctx, { ':method': 'CONNECT', ':authority': `${B.ip}:${ECHO_PORT}` })).rejects.toThrow();
  });

  it('answers 503 when the destination pod is unknown to xDS', async () => {
    const cert = await apps[0]!.certs.get(makeIdentity(TD, A.namespace, A.sa));
    const ctx = createHboneSecureContext({ key: cert.keyPem, certChain: cert.certChainPem.join('\n'), roots: cert.rootsPem });
    state.applyAddresses([], [workloadB().uid]);
    try {
      expect(await h2Status(ctx, { ':method': 'CONNECT', ':authority': `${B.ip}:${ECHO_PORT}` })).toBe(503);
    } finally {
      feedState(state, [workloadB()], []);
    }
  });

  it('tears down the pod listeners on ZDS Del', async () => {
    const req = create(zds.WorkloadRequestSchema, { payload: { case: 'del', value: { uid: 'uid-b' } } });
    expect(await agents[1]!.request(req)).toBe('');
    expect(apps[1]!.workloads.has('uid-b')).toBe(false);
    await expect(connectSocketInNetns(openNetnsCached(A), { host: B.ip, port: 15008, mark: 1337, timeoutMs: 2000 })).rejects.toThrow();
  });
});

/** One HTTP/2 request over mTLS to B's 15008 from inside pod A (marked, so not redirected). */
async function h2Status(secureContext: tls.SecureContext, headers: http2.OutgoingHttpHeaders): Promise<number> {
  const raw = await connectSocketInNetns(openNetnsCached(A), { host: B.ip, port: 15008, mark: 1337 });
  return new Promise((resolve, reject) => {
    const sock = tls.connect({ socket: raw, secureContext, ALPNProtocols: ['h2'], servername: '', rejectUnauthorized: false });
    const session = http2.connect(`https://${B.ip}:15008`, { createConnection: () => sock });
    session.on('error', reject);
    sock.on('error', reject);
    session.on('close', () => reject(new Error('session closed')));
    const req = session.request(headers, { endStream: false });
    req.on('error', reject);
    req.on('response', (h) => {
      resolve(Number(h[':status']));
      session.destroy();
    });
  });
}
