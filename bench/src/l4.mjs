// The L4 benchmark: floor (direct), stunnel pair, HAProxy TLS pair and the ztunnel pair, measured in the
// same run with alternating rounds (for each measurement: A,B,C,D,A,B,C,D,...), medians reported.
import fs from 'node:fs';
import { makeCerts } from './certs.mjs';
import { bulk, connRate, fixedRate, idleConnections, requestRate } from './measure.mjs';
import { directPeer, haproxyPeer, nodeRelayPeer, PEER_TOOLS, startUpstreams, stunnelPeer, ztunnelPeer } from './peers.mjs';
import { hasCommand } from './sys.mjs';
import { createPlainPair, createPodPair } from './topology.mjs';
import { bundleZtunnelNode } from './ztunnel-peer.mjs';

export const L4_PEERS = ['direct', 'stunnel', 'haproxy', 'ztunnel'];
// Measured only when named in --peers: trivial Node relay pairs, the floor of any Node proxy on this machine.
export const L4_REFERENCE_PEERS = ['node-plain', 'node-tls'];

export const L4_SIZES = {
  full: { rounds: 3, durationMs: 5000, fixedDurationMs: 10_000, rate: 1000, rateConns: 4, rrConns: 50, connConcurrency: 50, idleCount: 1000 },
  smoke: { rounds: 1, durationMs: 1000, fixedDurationMs: 1000, rate: 200, rateConns: 2, rrConns: 8, connConcurrency: 8, idleCount: 20 },
};

export function l4Measurements(s, tmp) {
  return [
    { id: 'bulk1', title: 'Bulk throughput, 1 connection', run: (p) => bulk(p, { durationMs: s.durationMs, conns: 1 }) },
    { id: 'bulk8', title: 'Bulk throughput, 8 connections', run: (p) => bulk(p, { durationMs: s.durationMs, conns: 8 }) },
    { id: 'connrate', title: `New connections/s, one request each, ${s.connConcurrency} concurrent`, run: (p) => connRate(p, { durationMs: s.durationMs, concurrency: s.connConcurrency }) },
    { id: 'rr', title: `1 KB request/response, ${s.rrConns} connections, closed loop`, run: (p) => requestRate(p, { durationMs: s.durationMs, connections: s.rrConns, tmp }) },
    { id: 'fixed', title: `1 KB request/response at a fixed ${s.rate} rps, ${s.rateConns} connections, open loop`, run: (p) => fixedRate(p, { durationMs: s.fixedDurationMs, connections: s.rateConns, rate: s.rate }) },
    { id: 'idle', title: `RSS idle and with ${s.idleCount} idle tunnelled connections`, run: (p) => idleConnections(p, { count: s.idleCount }) },
  ];
}

async function startPeer(name, ctx) {
  if (name === 'direct') return { ...directPeer(ctx.plain), serverNs: ctx.plain.server.ns };
  if (name === 'ztunnel') {
    const bundle = await bundleZtunnelNode(ctx.repoRoot);
    const pods = createPodPair(ctx.repoRoot);
    await startUpstreams(pods.server, ctx.certs.dir, ctx.repoRoot);
    return { ...(await ztunnelPeer(pods, ctx.certs, bundle)), serverNs: pods.server.ns };
  }
  if (L4_REFERENCE_PEERS.includes(name)) return { ...(await nodeRelayPeer(name, ctx.plain, ctx.certs, ctx.repoRoot)), serverNs: ctx.plain.server.ns };
  if (!hasCommand(PEER_TOOLS[name])) throw new Error(`${PEER_TOOLS[name]} is not installed (apt-get install ${name === 'stunnel' ? 'stunnel4' : 'haproxy'})`);
  const peer = name === 'stunnel' ? await stunnelPeer(ctx.plain, ctx.certs) : await haproxyPeer(ctx.plain, ctx.certs);
  return { ...peer, serverNs: ctx.plain.server.ns };
}

/** Returns { peers: {name: {available, reason?, rounds: {measurementId: [result,...]}}}, sizes, upstream }. */
export async function runL4({ repoRoot, sizes, only, log }) {
  const certs = makeCerts();
  const plain = createPlainPair();
  const upstream = await startUpstreams(plain.server, certs.dir, repoRoot);
  const ctx = { repoRoot, certs, plain };
  const peers = {};
  const started = [];
  const names = only ? [...L4_PEERS, ...L4_REFERENCE_PEERS].filter((n) => only.includes(n)) : L4_PEERS;
  for (const name of names) {
    try {
      started.push(await startPeer(name, ctx));
      peers[name] = { available: true, rounds: {} };
    } catch (e) {
      peers[name] = { available: false, reason: e instanceof Error ? e.message.split('\n')[0] : String(e), rounds: {} };
      log(`${name}: not available (${peers[name].reason})`);
    }
  }
  const measurements = l4Measurements(sizes, certs.dir);
  for (const m of measurements) {
    for (let round = 0; round < sizes.rounds; round++) {
      for (const peer of started) {
        let r;
        try {
          r = await m.run(peer);
        } catch (e) {
          r = { error: e instanceof Error ? e.message.split('\n')[0] : String(e) };
        }
        (peers[peer.name].rounds[m.id] ??= []).push(r);
        log(`${m.id} round ${round + 1}/${sizes.rounds} ${peer.name}: ${JSON.stringify(r)}`);
      }
    }
  }
  fs.rmSync(certs.file('post-1k.lua'), { force: true });
  return { peers, sizes, upstream, measurements: measurements.map(({ id, title }) => ({ id, title })) };
}
