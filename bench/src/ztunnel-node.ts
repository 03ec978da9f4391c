// One ztunnel "node" for the L4 benchmark, in its own process: the real ZtunnelApp (in-pod mode, real
// pod listeners through the netns addon, HBONE mTLS) with the mesh state injected instead of fetched by xDS
// and workload certificates signed in-process by the benchmark's CA instead of istiod's CA service.
// A minimal node agent in this process hands the pod's netns to ztunnel over ZDS, as istio-cni would.
// Config: BENCH_ZTUNNEL env = JSON { caCertFile, caKeyFile, pods: [{name, namespace, sa, ip, netns, node}], hostPod, zdsPath,
// workerThreads } (workerThreads > 1: the data path on that many worker threads, ztunnel-worker.mjs beside this bundle).
import fs from 'node:fs';
import { AddressSchema, create, fromBinary, toBinary, workload, WorkloadSchema, zds } from '@mesh/api';
import { createLogger } from '@mesh/core';
import { CertificateAuthority } from '@mesh/identity';
import { openNetns, SeqpacketServer, type SeqpacketSocket } from '@mesh/netns';
// Namespace import: the app's decision adapters are being renamed (interim* -> mesh*); use what exists.
import * as ztApp from '../../packages/ztunnel/src/app/index';
import { Authorizer } from '../../packages/ztunnel/src/rbac/index';
import { MeshState, parseSpiffeUri } from '../../packages/ztunnel/src/state/index';
import { StateFanout } from '../../packages/ztunnel/src/worker/index';

interface BenchPod { name: string; namespace: string; sa: string; ip: string; netns: string; node: string }
interface BenchConfig {
  caCertFile: string; caKeyFile: string; pods: BenchPod[]; hostPod: string; zdsPath: string; logLevel?: string; workerThreads?: number;
}

const TRUST_DOMAIN = 'cluster.local';

function podWorkload(p: BenchPod): workload.Workload {
  return create(WorkloadSchema, {
    uid: `Kubernetes//Pod/${p.namespace}/${p.name}`, name: p.name, namespace: p.namespace, serviceAccount: p.sa,
    addresses: [Uint8Array.from(p.ip.split('.').map(Number))], tunnelProtocol: workload.TunnelProtocol.HBONE, node: p.node,
    workloadName: p.name, canonicalName: p.name, canonicalRevision: 'v1', clusterId: 'Kubernetes',
  });
}

function firstMessage(server: SeqpacketServer): Promise<SeqpacketSocket> {
  return new Promise((resolve) => server.once('connection', (s: SeqpacketSocket) => s.once('message', () => resolve(s))));
}

async function addPod(conn: SeqpacketSocket, pod: BenchPod): Promise<void> {
  const fd = openNetns(pod.netns);
  const req = create(zds.WorkloadRequestSchema, {
    payload: { case: 'add', value: { uid: `uid-${pod.name}`, workloadInfo: { name: pod.name, namespace: pod.namespace, serviceAccount: pod.sa } } },
  });
  const ack = new Promise<string>((resolve) => conn.once('message', (m: { data: Uint8Array }) => {
    const r = fromBinary(zds.WorkloadResponseSchema, m.data);
    resolve(r.payload.case === 'ack' ? r.payload.value.error : 'no ack');
  }));
  conn.send(toBinary(zds.WorkloadRequestSchema, req), [fd]);
  const err = await ack;
  fs.closeSync(fd);
  if (err) throw new Error(`ztunnel refused the pod ${pod.name}: ${err}`);
}

type Wiring = Pick<ConstructorParameters<typeof ztApp.ZtunnelApp>[0], 'decide' | 'resolveInbound' | 'authorize'>;

/** The same decision/authorization wiring main.ts uses (the real decision module when the app exports it). */
function decisions(state: MeshState): Wiring {
  const m = ztApp as unknown as Record<string, ((...a: unknown[]) => unknown) | undefined>;
  if (m.meshDecider && m.meshInboundResolver && m.meshAuthorizer) {
    return { decide: m.meshDecider(state), resolveInbound: m.meshInboundResolver(state), authorize: m.meshAuthorizer(state) } as Wiring;
  }
  if (!m.interimDecider || !m.interimInboundResolver) throw new Error('packages/ztunnel/src/app exports neither mesh* nor interim* decision adapters');
  const rbac = new Authorizer(state);
  return {
    decide: m.interimDecider(state, '', TRUST_DOMAIN), resolveInbound: m.interimInboundResolver,
    authorize: (r) => {
      const d = rbac.authorize({
        srcIp: r.sourceIp, srcIdentity: r.sourceIdentity ? parseSpiffeUri(r.sourceIdentity) : undefined,
        dstIp: r.destinationIp, dstPort: r.destinationPort, dstWorkload: r.destination,
      });
      return { allowed: d.allow, reason: d.policy };
    },
  } as Wiring;
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.env.BENCH_ZTUNNEL ?? '{}') as BenchConfig;
  const host = cfg.pods.find((p) => p.name === cfg.hostPod);
  if (!host) throw new Error(`hostPod ${cfg.hostPod} is not in pods`);
  const ca = CertificateAuthority.fromPem({
    caCertPem: fs.readFileSync(cfg.caCertFile, 'utf8'), caKeyPem: fs.readFileSync(cfg.caKeyFile, 'utf8'), rootCertPem: fs.readFileSync(cfg.caCertFile, 'utf8'),
  });
  const state = new MeshState();
  const workerThreads = cfg.workerThreads ?? 1;
  // With workers the state goes in through the fan-out, as the xDS client feeds it: the workers start from it.
  const fanout = workerThreads > 1 ? new StateFanout(state) : undefined;
  await (fanout ?? state).applyAddresses(cfg.pods.map((p) => {
    const w = podWorkload(p);
    return { name: w.uid, resource: create(AddressSchema, { type: { case: 'workload', value: w } }) };
  }), []);
  const wiring = decisions(state);
  fs.rmSync(cfg.zdsPath, { force: true });
  const agent = SeqpacketServer.listen(cfg.zdsPath);
  const hello = firstMessage(agent);
  const ep = { host: '127.0.0.1', port: 0 };
  const app = new ztApp.ZtunnelApp({
    state, trustDomain: TRUST_DOMAIN, nodeName: host.node, ipv6Enabled: false, zdsPath: cfg.zdsPath,
    ...wiring,
    fetchCertificate: async (req) => ca.issueWorkloadCert({ identity: req.identity, csrPem: req.csrPem }).certChainPem,
    endpoints: { admin: ep, stats: ep, readiness: ep },
    logger: createLogger({ component: 'ztunnel', level: (cfg.logLevel ?? 'warn') as 'warn' }),
    ...(fanout ? {
      workers: {
        count: workerThreads, fanout,
        onFatal: (err: Error) => {
          process.stderr.write(`ztunnel-node: ${err.message}\n`);
          process.exit(1);
        },
      },
    } : {}),
  });
  await app.start();
  await addPod(await hello, host);
  const stop = (): void => {
    app.stop().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write('ZTUNNEL READY\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`ztunnel-node failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
