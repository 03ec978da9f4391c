// Test-only helpers: pod network namespaces with the real in-pod iptables rules, a fake CNI agent (ZDS),
// a test CA, and a fed state. Everything is torn down by cleanup(), even after failures.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  AddressSchema, AuthorizationSchema, create, fromBinary, security, toBinary, workload, WorkloadSchema, zds,
  type Authorization, type Workload,
} from '@mesh/api';
import { CertificateAuthority, type FetchCertificate } from '@mesh/identity';
import { connectSocketInNetns, openNetns, SeqpacketServer, type SeqpacketSocket } from '@mesh/netns';
import { MeshState } from '../src/state/index';

export const PREFIX = `mtest-${process.pid}-zt`;

const GOLDEN = path.resolve(__dirname, '../../cni/src/iptables/testdata/inpod_dns_disabled_v4.golden');

export function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

export const SERVICE_CIDR = '10.96.0.0/16';

export interface Pod {
  ns: string;
  ip: string;
  name: string;
  namespace: string;
  sa: string;
}

/** Two pods joined by a veth pair, each with the in-pod redirection rules and policy routing. */
export function createPods(a: Pod, b: Pod): void {
  for (const p of [a, b]) sh('ip', ['netns', 'add', p.ns]);
  sh('ip', ['link', 'add', `${PREFIX}a`.slice(0, 15), 'netns', a.ns, 'type', 'veth', 'peer', 'name', `${PREFIX}b`.slice(0, 15), 'netns', b.ns]);
  for (const [p, dev] of [[a, `${PREFIX}a`.slice(0, 15)], [b, `${PREFIX}b`.slice(0, 15)]] as const) {
    const x = (...args: string[]): string => sh('ip', ['netns', 'exec', p.ns, ...args]);
    x('ip', 'link', 'set', 'lo', 'up');
    x('ip', 'addr', 'add', `${p.ip}/24`, 'dev', dev);
    x('ip', 'link', 'set', dev, 'up');
    execFileSync('ip', ['netns', 'exec', p.ns, 'iptables-restore', '--noflush'], { input: fs.readFileSync(GOLDEN) });
    // Service VIPs are routable from the pod (as via the node's default route); the in-pod REDIRECT captures
    // them before any node-level DNAT could, so ztunnel sees the VIP as the original destination.
    x('ip', 'route', 'add', SERVICE_CIDR, 'dev', dev);
    x('ip', '-4', 'rule', 'add', 'fwmark', '0x111/0xfff', 'pref', '32764', 'lookup', '100');
    x('ip', '-4', 'route', 'replace', 'local', '0.0.0.0/0', 'dev', 'lo', 'table', '100');
  }
}

export function deletePods(...pods: Pod[]): void {
  for (const p of pods) {
    try {
      sh('ip', ['netns', 'del', p.ns]);
    } catch {
      // already gone
    }
  }
}

export function testCa(): { ca: CertificateAuthority; fetch: FetchCertificate } {
  const ca = CertificateAuthority.selfSigned();
  return { ca, fetch: async (req) => ca.issueWorkloadCert({ identity: req.identity, csrPem: req.csrPem }).certChainPem };
}

export function ipBytes(ip: string): Uint8Array {
  return Uint8Array.from(ip.split('.').map(Number));
}

/** `services`: `namespace/hostname` -> [servicePort, targetPort] pairs (the workload's endpoint ports). */
export function podWorkload(p: Pod, node: string, services: Record<string, [number, number][]> = {}): Workload {
  return create(WorkloadSchema, {
    services: Object.fromEntries(Object.entries(services).map(([k, ports]) => [k, { ports: ports.map(([servicePort, targetPort]) => ({ servicePort, targetPort })) }])),
    uid: `Kubernetes//Pod/${p.namespace}/${p.name}`, name: p.name, namespace: p.namespace, serviceAccount: p.sa,
    addresses: [ipBytes(p.ip)], tunnelProtocol: 1, node, workloadName: p.name, canonicalName: p.name, canonicalRevision: 'v1',
    clusterId: 'Kubernetes',
  });
}

export function serviceOf(name: string, namespace: string, vip: string, ports: [number, number][]): workload.Service {
  return create(workload.ServiceSchema, {
    name, namespace, hostname: `${name}.${namespace}.svc.cluster.local`,
    addresses: [{ network: '', address: ipBytes(vip) }],
    ports: ports.map(([servicePort, targetPort]) => ({ servicePort, targetPort })),
  });
}

export function feedState(state: MeshState, workloads: Workload[], policies: Authorization[], services: workload.Service[] = []): void {
  state.applyAddresses([
    ...workloads.map((w) => ({ name: w.uid, resource: create(AddressSchema, { type: { case: 'workload' as const, value: w } }) })),
    ...services.map((s) => ({ name: `${s.namespace}/${s.hostname}`, resource: create(AddressSchema, { type: { case: 'service' as const, value: s } }) })),
  ], []);
  state.applyAuthorizations(policies.map((p) => ({ name: `${p.namespace}/${p.name}`, resource: p })), []);
}

export function denyPortPolicy(namespace: string, port: number): Authorization {
  return create(AuthorizationSchema, {
    name: 'deny-port', namespace, scope: security.Scope.NAMESPACE, action: security.Action.DENY,
    groups: [{ rules: [{ matches: [{ destinationPorts: [port] }] }] }],
  });
}

/** What istiod sends for STRICT PeerAuthentication: deny any connection without a principal. */
export function strictPolicy(namespace: string): Authorization {
  return create(AuthorizationSchema, {
    name: 'converted_peer_authentication_strict', namespace, scope: security.Scope.NAMESPACE, action: security.Action.DENY,
    groups: [{ rules: [{ matches: [{ notPrincipals: [{ matchType: { case: 'presence', value: {} } }] }] }] }],
  });
}

/** A fake istio-cni node agent: accepts ztunnel, reads hello, sends requests and returns their acks. */
export class FakeAgent {
  readonly server: SeqpacketServer;
  private conn: SeqpacketSocket | undefined;
  private waiting: ((s: SeqpacketSocket) => void)[] = [];
  hello: zds.ZdsHello | undefined;

  constructor(readonly path: string) {
    this.server = SeqpacketServer.listen(path);
    this.server.on('connection', (s) => {
      s.once('message', (m) => {
        this.hello = fromBinary(zds.ZdsHelloSchema, m.data);
        this.conn = s;
        for (const w of this.waiting.splice(0)) w(s);
      });
    });
  }

  connected(): Promise<SeqpacketSocket> {
    return this.conn ? Promise.resolve(this.conn) : new Promise((r) => this.waiting.push(r));
  }

  async request(req: zds.WorkloadRequest, fds: number[] = []): Promise<string> {
    const s = await this.connected();
    const ack = new Promise<string>((resolve) => s.once('message', (m) => {
      const r = fromBinary(zds.WorkloadResponseSchema, m.data);
      resolve(r.payload.case === 'ack' ? r.payload.value.error : 'no ack');
    }));
    s.send(toBinary(zds.WorkloadRequestSchema, req), fds);
    return ack;
  }

  addPod(p: Pod, uid: string): Promise<string> {
    const fd = openNetns(`/var/run/netns/${p.ns}`);
    const req = create(zds.WorkloadRequestSchema, {
      payload: { case: 'add', value: { uid, workloadInfo: { name: p.name, namespace: p.namespace, serviceAccount: p.sa } } },
    });
    return this.request(req, [fd]).finally(() => closeQuiet(fd));
  }

  close(): void {
    this.conn?.close();
    this.server.close();
  }
}

function closeQuiet(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // closed
  }
}

export function tmpSock(name: string): string {
  return path.join(os.tmpdir(), `${PREFIX}-${name}.sock`);
}

/** An app inside a pod (`netnsFd`): connect, send, read the echo, close; '' when refused or closed early. */
export function echoRoundTrip(netnsFd: number, dstIp: string, port: number, payload: string, mark?: number): Promise<string> {
  return connectSocketInNetns(netnsFd, { host: dstIp, port, ...(mark ? { mark } : {}) }).then((s) => new Promise<string>((resolve) => {
    let got = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      got += d;
      if (got.length >= payload.length) s.end();
    });
    s.on('error', () => undefined);
    s.on('close', () => resolve(got));
    s.write(payload);
  }), () => '');
}
