// l7 target: waypoint path vs HAProxy (mode http) vs nginx (proxy_pass + upstream keepalive), one upstream,
// same load tools as L4 (wrk closed loop at 50 connections; rrgen.c open loop at 1000 rps), peers alternating
// within each round, medians over rounds. CPU = utime+stime of the proxy process (for the waypoint path: the
// waypoint process alone; the two ztunnel stand-ins are reported separately).
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { makeCerts } from './certs.mjs';
import { fixedRate, requestRate, rssOf } from './measure.mjs';
import { bundleWaypointNode, startHaproxy, startNginxProxy, startUpstream, startWaypointPath } from './l7-peers.mjs';
import { trackTempDir } from './sys.mjs';

export const L7_SIZES = {
  full: { rounds: 3, rrMs: 5_000, fixedMs: 5_000, connections: 50, rate: 1_000, fixedConns: 4, warmMs: 3_000 },
  smoke: { rounds: 1, rrMs: 1_000, fixedMs: 1_000, connections: 8, rate: 200, fixedConns: 2, warmMs: 500 },
};

function probe(port) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/probe', headers: { 'content-type': 'text/plain' } }, (res) => {
      let n = 0;
      res.on('data', (c) => (n += c.length));
      res.on('end', () => resolve({ status: res.statusCode, bytes: n }));
    });
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end('x');
  });
}

async function startPeers(repoRoot, tmp, upstream, log, sizes) {
  const peers = { direct: { name: 'direct', port: upstream.port, procs: [], cpuProcs: [], available: true } };
  const starters = {
    haproxy: () => startHaproxy(tmp, upstream.port),
    nginx: () => startNginxProxy(tmp, upstream.port),
    waypoint: async () => startWaypointPath(await bundleWaypointNode(repoRoot), makeCerts(), upstream.port),
    // The same path with the service port declared TCP: the waypoint relays the tunnel's bytes (L4 policy
    // only), a floor that shows what the HBONE legs and the stand-ins cost without the L7 pipeline.
    'waypoint-l4': async () => ({ ...(await startWaypointPath(await bundleWaypointNode(repoRoot), makeCerts(), upstream.port, { portProtocol: 'TCP' })), name: 'waypoint-l4' }),
  };
  for (const [name, start] of Object.entries(starters)) {
    try {
      const p = await start();
      const r = await probe(p.port);
      if (r.status !== 200) throw new Error(`a probe request through it answered ${r.status}`);
      peers[name] = { ...p, available: true };
      // Steady state is what is compared: the node processes' JIT compiles the hot path during the first
      // seconds of load (every peer gets the same warm-up; it is not measured).
      await requestRate(asPeer(peers[name]), { durationMs: sizes.warmMs ?? 0, connections: sizes.connections, tmp });
    } catch (err) {
      peers[name] = { name, available: false, reason: (err instanceof Error ? err.message : String(err)).split('\n')[0].slice(0, 200) };
      log(`l7: ${name} not available: ${peers[name].reason}`);
    }
  }
  return peers;
}

const asPeer = (p) => ({ ns: undefined, procs: p.procs, target: () => ({ host: '127.0.0.1', port: p.port }) });
const cpuOf = (cpu, label) => cpu.filter((c) => label(c.label)).reduce((a, c) => a + c.us, 0);

export async function runL7({ repoRoot, sizes, log }) {
  const tmp = trackTempDir(fs.mkdtempSync(path.join(os.tmpdir(), 'mbench-l7-')));
  const upstream = await startUpstream(tmp);
  const peers = await startPeers(repoRoot, tmp, upstream, log, sizes);
  const names = Object.keys(peers).filter((n) => peers[n].available);
  const rounds = [];
  for (let r = 0; r < sizes.rounds; r++) {
    const order = names.map((_, i) => names[(i + r) % names.length]);
    const round = {};
    for (const name of order) {
      const p = peers[name];
      const isProxy = (l) => p.cpuProcs.some((c) => c.label === l);
      log(`l7: round ${r + 1}/${sizes.rounds}: ${name}`);
      const rr = await requestRate(asPeer(p), { durationMs: sizes.rrMs, connections: sizes.connections, tmp });
      const fixed = await fixedRate(asPeer(p), { durationMs: sizes.fixedMs, connections: sizes.fixedConns, rate: sizes.rate });
      round[name] = {
        rps: rr.rps, requests: rr.requests, non2xx: rr.non2xx ?? 0, tool: rr.tool,
        cpuUsPerReq: p.cpuProcs.length && rr.requests ? cpuOf(rr.cpu, isProxy) / rr.requests : undefined,
        standInCpuUsPerReq: p.standIns && rr.requests ? cpuOf(rr.cpu, (l) => !isProxy(l)) / rr.requests : undefined,
        p50Us: fixed.p50Us, p99Us: fixed.p99Us, fixedRps: fixed.rps, fixedTool: fixed.tool, fixedErrors: fixed.errors ?? 0,
        fixedCpuUsPerReq: p.cpuProcs.length && fixed.requests ? cpuOf(fixed.cpu, isProxy) / fixed.requests : undefined,
        rssMB: p.cpuProcs.length ? rssOf({ procs: p.cpuProcs }).reduce((a, x) => a + x.bytes, 0) / 2 ** 20 : undefined,
      };
    }
    rounds.push(round);
  }
  const peerInfo = Object.fromEntries(Object.entries(peers).map(([n, p]) => [n, p.available ? { available: true } : { available: false, reason: p.reason }]));
  return { sizes, upstream: upstream.desc, peers: peerInfo, rounds };
}
