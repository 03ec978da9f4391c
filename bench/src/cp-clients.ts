// Load side of the control-plane benchmark, run as its own process (bundled by cp-bundle.mjs) so the clients'
// CPU is not charged to istiod. Two modes, chosen by BENCH_CP (JSON):
//  - xds: N real DeltaXdsClients (one HTTP/2 connection each) subscribed to WDS Addresses + Authorizations,
//    reporting each client's `synced` time and, for the resource name the parent announces over IPC, the
//    time each client received an update of it.
//  - ca: CreateCertificate calls at a fixed concurrency with CSRs from a pool built before the clock starts.
// Times are wall clock with sub-ms resolution (timeOrigin + now), comparable with the parent's on one machine.
import { readFileSync } from 'node:fs';
import { credentials } from '@grpc/grpc-js';
import { ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL } from '@mesh/api';
import { buildCsr, createCaClient, generateWorkloadKey, makeIdentity } from '@mesh/identity';
import { DeltaXdsClient, type XdsTypeHandler } from '@mesh/xds-client';

interface Common { address: string; rootCertFile: string; serverName: string; token: string }
interface XdsMode extends Common { mode: 'xds'; clients: number }
interface CaMode extends Common {
  mode: 'ca';
  identities: { namespace: string; serviceAccount: string }[];
  keysPerIdentity: number;
  /** Separate callers (ztunnels), each on its own channel and connection. */
  callers: number;
  /** Calls in flight per caller. */
  concurrency: number;
  durationMs: number;
  maxRequests: number;
}
type Msg = { type: 'expect'; name: string } | { type: 'stop' };

const now = (): number => performance.timeOrigin + performance.now();
const send = (m: unknown): void => {
  process.send?.(m);
};
/** Reports of received updates are stamped when they happen and sent in batches: one IPC write per
 * client per change would put the harness's own JSON + pipe cost between the clients' responses. */
const REPORT_BATCH_MS = 50;
let reports: unknown[] = [];
const report = (m: unknown): void => {
  if (reports.length === 0) {
    setTimeout(() => {
      const batch = reports;
      reports = [];
      send({ type: 'batch', items: batch });
    }, REPORT_BATCH_MS);
  }
  reports.push(m);
};

function runXds(o: XdsMode): void {
  const root = readFileSync(o.rootCertFile);
  let watched = '';
  const clients: DeltaXdsClient[] = [];
  const startedAt = now();
  const syncedAt: (number | undefined)[] = [];
  for (let i = 0; i < o.clients; i++) {
    const addresses: XdsTypeHandler<unknown> = {
      typeUrl: ADDRESS_TYPE_URL,
      decode: (a) => a,
      apply: (updates) => {
        if (watched === '') return;
        for (const u of updates) if (u.name.endsWith(watched)) report({ type: 'got', client: i, name: u.name, t: now() });
      },
    };
    const authz: XdsTypeHandler<unknown> = { typeUrl: AUTHORIZATION_TYPE_URL, decode: (a) => a, apply: () => undefined };
    const c = new DeltaXdsClient({
      address: o.address,
      credentials: credentials.createSsl(root),
      // A local subchannel pool: without it grpc-js would share one connection among all the clients.
      channelOptions: { 'grpc.ssl_target_name_override': o.serverName, 'grpc.default_authority': o.serverName, 'grpc.use_local_subchannel_pool': 1 },
      metadata: { authorization: `Bearer ${o.token}`, clusterid: 'Kubernetes' },
      node: { id: `ztunnel~10.250.${i >> 8}.${i & 255}~ztunnel-${i}.istio-system~istio-system.svc.cluster.local`, metadata: {} },
      types: [addresses, authz],
      initialBackoffMs: 200,
      maxBackoffMs: 2000,
    });
    c.on('synced', () => {
      if (syncedAt[i] !== undefined) return;
      syncedAt[i] = now();
      send({ type: 'synced', client: i, t: syncedAt[i], resources: c.resourceVersions(ADDRESS_TYPE_URL).size });
    });
    c.on('disconnected', (d: { reason: string }) => send({ type: 'disconnect', client: i, reason: d.reason }));
    clients.push(c);
  }
  send({ type: 'starting', t: startedAt });
  for (const c of clients) c.start();
  process.on('message', (m: Msg) => {
    if (m.type === 'expect') watched = m.name;
    if (m.type === 'stop') {
      for (const c of clients) c.close();
      setTimeout(() => process.exit(0), 100);
    }
  });
}

async function runCa(o: CaMode): Promise<void> {
  const root = readFileSync(o.rootCertFile, 'utf8');
  const pool: { identity: ReturnType<typeof makeIdentity>; csrPem: string }[] = [];
  for (const id of o.identities) {
    const identity = makeIdentity('cluster.local', id.namespace, id.serviceAccount);
    for (let k = 0; k < o.keysPerIdentity; k++) {
      const keys = generateWorkloadKey();
      pool.push({ identity, csrPem: buildCsr(identity, keys.privateKey, keys.publicKey) });
    }
  }
  // A local subchannel pool per caller: grpc-js would otherwise share one connection between equal channels.
  const callers = Array.from({ length: Math.max(1, o.callers) }, () =>
    createCaClient({ address: o.address, rootCertPem: root, serverName: o.serverName, token: o.token, clusterId: 'Kubernetes', channelOptions: { 'grpc.use_local_subchannel_pool': 1 } }),
  );
  // One warm-up call per caller so the TLS handshakes are not inside the timed window.
  for (const ca of callers) await ca.createCertificate(pool[0] as (typeof pool)[number]);
  let issued = 0;
  let next = 0;
  const errors: string[] = [];
  const start = now();
  const cpu0 = process.cpuUsage();
  const deadline = start + o.durationMs;
  const worker = async (ca: (typeof callers)[number]): Promise<void> => {
    while (now() < deadline && next < o.maxRequests) {
      const req = pool[next++ % pool.length] as (typeof pool)[number];
      try {
        await ca.createCertificate(req);
        issued++;
      } catch (err) {
        if (errors.length < 5) errors.push(err instanceof Error ? err.message : String(err));
      }
    }
  };
  await Promise.all(callers.flatMap((ca) => Array.from({ length: o.concurrency }, () => worker(ca))));
  const elapsedMs = now() - start;
  const cpu = process.cpuUsage(cpu0);
  for (const ca of callers) ca.close();
  const clientCpuUs = cpu.user + cpu.system;
  process.stdout.write(`${JSON.stringify({ issued, attempted: next, elapsedMs, certsPerS: (issued * 1000) / elapsedMs, clientCpuUs, errors })}\n`);
  process.exit(0);
}

const opts = JSON.parse(process.env['BENCH_CP'] ?? '{}') as XdsMode | CaMode;
if (opts.mode === 'xds') runXds(opts);
else if (opts.mode === 'ca') {
  runCa(opts).catch((err: unknown) => {
    process.stderr.write(`ca load failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
} else {
  process.stderr.write('BENCH_CP must be JSON with mode "xds" or "ca"\n');
  process.exit(2);
}
