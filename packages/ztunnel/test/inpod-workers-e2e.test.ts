// The in-pod data path on 2 worker threads per ztunnel (ZTUNNEL_WORKER_THREADS=2), on the real kernel: two pod
// netns with Istio's in-pod rules, one in-process ztunnel per pod, ZDS from a fake agent, a test CA, xDS state
// fed through each app's StateFanout (what the xDS client calls). Asserts what only the multi-worker mode can
// get wrong: the kernel spreads connections over both workers, a policy change is in force in every worker
// once the apply (and so the xDS ACK) completes, a ZDS Del closes every worker's listeners and connections,
// and a dead worker is reported instead of silently losing its share of connections.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AddressSchema, create, zds, type Authorization, type Workload } from '@mesh/api';
import { createLogger, isMeshError } from '@mesh/core';
import { closeFd, connectSocketInNetns, listenInNetns, openNetns, serverFromFd } from '@mesh/netns';
import { meshAuthorizer, meshDecider, meshInboundResolver, ZtunnelApp } from '../src/app/index';
import { MeshState } from '../src/state/index';
import { StateFanout, type WorkerStats } from '../src/worker/index';
import {
  createPods, deletePods, denyPortPolicy, echoRoundTrip, FakeAgent, PREFIX, podWorkload, strictPolicy, testCa, tmpSock, type Pod,
} from './fixtures';
import { bundle } from './processes';

const A: Pod = { ns: `${PREFIX}-wa`, ip: '10.78.0.2', name: 'client', namespace: 'ns-a', sa: 'sa-a' };
const B: Pod = { ns: `${PREFIX}-wb`, ip: '10.78.0.3', name: 'server', namespace: 'ns-b', sa: 'sa-b' };
const ECHO_PORT = 8080;
const WORKERS = 2;
const TD = 'cluster.local';
/** With 24 connections, all on one of 2 workers by chance is 2^-23. */
const SPREAD_CONNECTIONS = 24;

interface Node { app: ZtunnelApp; fanout: StateFanout; agent: FakeAgent; fatal: Error[] }
const nodes: Node[] = [];
const echoServers: net.Server[] = [];
const nsFds = new Map<string, number>();

function netnsOf(p: Pod): number {
  let fd = nsFds.get(p.ns);
  if (fd === undefined) {
    fd = openNetns(`/var/run/netns/${p.ns}`);
    nsFds.set(p.ns, fd);
  }
  return fd;
}

async function feed(workloads: Workload[], policies: Authorization[], removedPolicies: string[] = []): Promise<void> {
  for (const n of nodes) {
    await n.fanout.applyAddresses(workloads.map((w) => ({ name: w.uid, resource: create(AddressSchema, { type: { case: 'workload', value: w } }) })), []);
    await n.fanout.applyAuthorizations(policies.map((p) => ({ name: `${p.namespace}/${p.name}`, resource: p })), removedPolicies);
  }
}

async function workerStats(app: ZtunnelApp): Promise<WorkerStats[]> {
  const res = await fetch(`${app.opsServers!.admin.url}/config_dump`);
  return ((await res.json()) as { workers: WorkerStats[] }).workers;
}

/** An app in pod A: connect (redirected to A's 15001), send, read the echo; '' when refused or closed. */
function roundTrip(payload: string): Promise<string> {
  return echoRoundTrip(netnsOf(A), B.ip, ECHO_PORT, payload);
}

/** A connection from pod A to B's echo that stays open until closed by someone else. */
async function openEcho(): Promise<net.Socket> {
  const s = await connectSocketInNetns(netnsOf(A), { host: B.ip, port: ECHO_PORT });
  s.on('error', () => undefined);
  s.setEncoding('utf8');
  await new Promise<void>((resolve) => {
    s.once('data', () => resolve());
    s.write('ping');
  });
  return s;
}

beforeAll(async () => {
  bundle('ztunnel'); // the worker threads run dist/ztunnel-worker.mjs
  deletePods(A, B);
  createPods(A, B);
  const c = testCa();
  for (const name of ['wa', 'wb']) {
    const state = new MeshState();
    const fanout = new StateFanout(state);
    const agent = new FakeAgent(tmpSock(name));
    const fatal: Error[] = [];
    const ep = { host: '127.0.0.1', port: 0 };
    const app = new ZtunnelApp({
      state, decide: meshDecider(state), authorize: meshAuthorizer(state), resolveInbound: meshInboundResolver(state), fetchCertificate: c.fetch,
      zdsPath: agent.path, trustDomain: TD, nodeName: 'node-1', ipv6Enabled: false, drainDeadlineMs: 200,
      endpoints: { admin: ep, stats: ep, readiness: ep }, logger: createLogger({ component: 'ztunnel', level: 'silent' }),
      workers: { count: WORKERS, fanout, onFatal: (err) => fatal.push(err) },
    });
    nodes.push({ app, fanout, agent, fatal });
  }
  // Half the state before the workers start (their snapshot), half after (forwarded deltas).
  await feed([podWorkload(A, 'node-1')], []);
  for (const n of nodes) await n.app.start();
  await feed([podWorkload(B, 'node-1')], [strictPolicy(B.namespace)]);
  expect(await nodes[0]!.agent.addPod(A, 'uid-a')).toBe('');
  expect(await nodes[1]!.agent.addPod(B, 'uid-b')).toBe('');
  const fd = listenInNetns(netnsOf(B), { host: '0.0.0.0', port: ECHO_PORT });
  echoServers.push(await serverFromFd(fd, net.createServer((s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  })));
}, 60_000);

afterAll(async () => {
  for (const n of nodes) await n.app.stop().catch(() => undefined);
  for (const n of nodes) n.agent.close();
  for (const s of echoServers) s.close();
  for (const fd of nsFds.values()) closeFd(fd);
  deletePods(A, B);
});

describe('in-pod ztunnel with 2 data-path workers', () => {
  it('spreads connections over both workers and reports them in one /metrics', async () => {
    const before = await workerStats(nodes[0]!.app);
    expect(before.map((w) => w.worker)).toEqual([0, 1]);
    expect(new Set(before.map((w) => w.threadId)).size).toBe(WORKERS);
    for (let i = 0; i < SPREAD_CONNECTIONS; i++) expect(await roundTrip(`hello ${i}`)).toBe(`hello ${i}`);
    const after = await workerStats(nodes[0]!.app);
    const opened = after.map((w, i) => w.connectionsOpened - before[i]!.connectionsOpened);
    expect(opened.every((n) => n > 0)).toBe(true);
    expect(opened.reduce((a, b) => a + b, 0)).toBe(SPREAD_CONNECTIONS);
    const text = await nodes[0]!.app.registry.metrics();
    const total = text.split('\n')
      .filter((l) => l.startsWith('istio_tcp_connections_opened_total{') && l.includes('reporter="source"'))
      .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
    expect(total).toBe(SPREAD_CONNECTIONS);
    // Every worker of B holds the state fed before and after it started.
    for (const w of await workerStats(nodes[1]!.app)) expect([w.workloads, w.policies]).toEqual([2, 1]);
  });

  it('enforces a policy change in every worker once its apply (the xDS ACK gate) resolves', async () => {
    const deny = denyPortPolicy(B.namespace, ECHO_PORT);
    await feed([], [deny]);
    for (const w of await workerStats(nodes[1]!.app)) expect(w.policies).toBe(2);
    const refused = await Promise.all(Array.from({ length: 16 }, (_, i) => roundTrip(`denied ${i}`)));
    expect(refused.every((r) => r === '')).toBe(true);
    await feed([], [], [`${deny.namespace}/${deny.name}`]);
    expect(await roundTrip('allowed again')).toBe('allowed again');
  });

  it('closes the pod\'s listeners and connections in every worker on ZDS Del', async () => {
    const open = await Promise.all(Array.from({ length: 12 }, () => openEcho()));
    const busy = await workerStats(nodes[0]!.app);
    expect(busy.every((w) => (w.pods['uid-a'] ?? 0) > 0)).toBe(true);
    const closed = open.map((s) => new Promise((r) => s.once('close', r)));
    const req = create(zds.WorkloadRequestSchema, { payload: { case: 'del', value: { uid: 'uid-a' } } });
    expect(await nodes[0]!.agent.request(req)).toBe('');
    await Promise.all(closed);
    for (const w of await workerStats(nodes[0]!.app)) expect([w.pods, w.activeConnections]).toEqual([{}, 0]);
    // A's redirect still sends to 15001, where no worker listens any more.
    expect(await roundTrip('after del')).toBe('');
  });

  it('reports a worker that died instead of running on without its share of connections', async () => {
    const node = nodes[1]!;
    const victim = node.app.workerPool!.threads[1]!;
    const exited = new Promise((r) => victim.once('exit', r));
    // An uncaught error inside the worker (a malformed message) ends its thread, as any crash would.
    victim.postMessage({ rpc: 'push', op: 'certificate', payload: null });
    await exited;
    expect(node.fatal).toHaveLength(1);
    expect(isMeshError(node.fatal[0], 'ZTUNNEL_WORKER_EXITED')).toBe(true);
    expect(node.fatal[0]!.message).toContain('data-path worker 1 died');
  });
});
