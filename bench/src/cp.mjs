/* global performance, process */
// control-plane target: the bundled istiod with synthetic state (directory config source) against real delta
// xDS clients and CA callers in a separate process on loopback. See docs/performance.md for the method.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CHURN_NAMESPACE, CHURN_POD, churnPodYaml, writeSyntheticState } from './cp-state.mjs';
import { bundleAll, peakRssBytes, pushesTotal, SERVER_NAME, startIstiod } from './cp-procs.mjs';
import { cpuMicros, rssBytes, runChild, sleep, startChild, stopChild, trackTempDir, waitFor } from './sys.mjs';

export const CP_SIZES = {
  full: { pods: 10_000, services: 1_000, namespaces: 10, nodes: 10, policies: 1_000, clients: 100, changes: 20, caRounds: 3, caDurationMs: 4_000, caCallers: 4, caConcurrency: 16 },
  smoke: { pods: 200, services: 20, namespaces: 2, nodes: 2, policies: 20, clients: 4, changes: 3, caRounds: 1, caDurationMs: 800, caCallers: 2, caConcurrency: 2 },
};
const DEBOUNCE_AFTER_MS = 10;
const DIRECTORY_DEBOUNCE_MS = 15; // istiod's CONFIG_DIR_DEBOUNCE default (packages/istiod/src/app/config.ts)
const SYNC_TIMEOUT_MS = 120_000;
const CHANGE_TIMEOUT_MS = 10_000;
const CHANGE_GAP_MS = 300;
const SIGN_ROUND_MS = 1_000;
const CA_KEYS_PER_IDENTITY = 4;

const median = (xs) => percentile(xs, 50);

/** Kernel-side CPU (stime) of a process, us: on loopback the sender's syscalls also deliver to the receiver. */
function sysMicros(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[12]) * 1e6) / 100;
  } catch {
    return 0;
  }
}
export function percentile(xs, p) {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

function startClients(bundle, istiod, state, clients) {
  const env = { BENCH_CP: JSON.stringify({ mode: 'xds', address: istiod.address, rootCertFile: istiod.rootCertFile, serverName: SERVER_NAME, token: state.token, clients }) };
  // BENCH_CP_CLIENT_NODE_ARGS: extra node flags for the client process while iterating (e.g. --cpu-prof).
  const extra = (process.env.BENCH_CP_CLIENT_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const proc = startChild('xds-clients', process.execPath, [...extra, bundle], { env, ipc: true });
  const events = { starting: undefined, synced: new Map(), got: [], disconnects: [] };
  const onMessage = (m) => {
    if (m.type === 'batch') for (const item of m.items) onMessage(item);
    else if (m.type === 'starting') events.starting = m.t;
    else if (m.type === 'synced') events.synced.set(m.client, m);
    else if (m.type === 'got') events.got.push(m);
    else if (m.type === 'disconnect' && events.disconnects.length < 20) events.disconnects.push(m.reason);
  };
  proc.child.on('message', onMessage);
  return { proc, events };
}

async function initialSync(clients, n) {
  await waitFor(() => {
    if (clients.proc.child.exitCode !== null) throw new Error(`client process exited: ${clients.proc.output.slice(-400)}`);
    return clients.events.synced.size >= n;
  }, SYNC_TIMEOUT_MS, `${n} xDS clients to sync`).catch((e) => {
    throw new Error(`${e.message} (${clients.events.synced.size} synced; disconnects: ${clients.events.disconnects.slice(0, 3).join('; ')})`);
  });
  const times = [...clients.events.synced.values()].map((s) => s.t - clients.events.starting);
  const resources = [...clients.events.synced.values()].map((s) => s.resources);
  return { allMs: Math.max(...times), p50Ms: median(times), resourcesPerClient: median(resources) };
}

/** Edits the churn pod's file `changes` times; per change, each client's delay from the write. */
async function churn(clients, state, sizes, log) {
  clients.proc.child.send({ type: 'expect', name: `/Pod/${CHURN_NAMESPACE}/${CHURN_POD}` });
  const perChange = [];
  for (let k = 1; k <= sizes.changes; k++) {
    clients.events.got.length = 0;
    const t0 = performance.timeOrigin + performance.now();
    fs.writeFileSync(state.churnFile, `${churnPodYaml(sizes, k)}\n`);
    const seen = new Map();
    await waitFor(() => {
      for (const g of clients.events.got) if (g.t >= t0 && !seen.has(g.client)) seen.set(g.client, g.t - t0);
      return seen.size >= sizes.clients;
    }, CHANGE_TIMEOUT_MS, `change ${k} to reach every client`).catch(() => undefined);
    const d = [...seen.values()];
    perChange.push({ k, reached: d.length, allMs: d.length === sizes.clients ? Math.max(...d) : undefined, firstMs: Math.min(...d), perClientMs: d });
    if (d.length < sizes.clients) log(`control-plane: change ${k} reached ${d.length}/${sizes.clients} clients`);
    await sleep(CHANGE_GAP_MS);
  }
  return perChange;
}

function rawSignRate() {
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const tbs = crypto.randomBytes(400); // about the size of a workload certificate's TBSCertificate
  let n = 0;
  const end = performance.now() + SIGN_ROUND_MS;
  const start = performance.now();
  while (performance.now() < end) {
    crypto.sign('sha256', tbs, privateKey);
    n++;
  }
  return (n * 1000) / (performance.now() - start);
}

async function caRounds(bundle, istiod, state, sizes) {
  const rounds = [];
  for (let r = 0; r < sizes.caRounds; r++) {
    const sign = rawSignRate();
    const env = { BENCH_CP: JSON.stringify({ mode: 'ca', address: istiod.address, rootCertFile: istiod.rootCertFile, serverName: SERVER_NAME, token: state.token, identities: state.identities, keysPerIdentity: CA_KEYS_PER_IDENTITY, callers: sizes.caCallers, concurrency: sizes.caConcurrency, durationMs: sizes.caDurationMs, maxRequests: 100_000 }) };
    const cpu0 = cpuMicros(istiod.proc.child.pid);
    const out = await runChild(process.execPath, [bundle], { env, timeoutMs: sizes.caDurationMs + 60_000 });
    const res = JSON.parse(out.trim().split('\n').pop());
    const istiodCpuUs = cpuMicros(istiod.proc.child.pid) - cpu0;
    const perCert = (us) => (res.issued && us != null ? us / res.issued : undefined);
    rounds.push({ round: r, rawSignPerS: sign, ...res, istiodCpuUsPerCert: perCert(istiodCpuUs), clientCpuUsPerCert: perCert(res.clientCpuUs) });
  }
  return rounds;
}

/** `--only ca`: the same istiod and state, CA rounds only (no xDS clients). */
export async function runCaOnly({ repoRoot, sizes, log }) {
  const bundles = await bundleAll(repoRoot);
  const dir = trackTempDir(fs.mkdtempSync(path.join(os.tmpdir(), 'mbench-cp-')));
  const state = writeSyntheticState(dir, sizes);
  const istiod = await startIstiod({ bundle: bundles.istiod, dir, state, debounceAfterMs: DEBOUNCE_AFTER_MS });
  log('control-plane: CA rounds only');
  try {
    return { sizes, caPool: { keysPerIdentity: CA_KEYS_PER_IDENTITY, identities: state.identities.length }, ca: await caRounds(bundles.clients, istiod, state, sizes) };
  } finally {
    await stopChild(istiod.proc);
  }
}

export async function runControlPlane({ repoRoot, sizes, log }) {
  const bundles = await bundleAll(repoRoot);
  const dir = trackTempDir(fs.mkdtempSync(path.join(os.tmpdir(), 'mbench-cp-')));
  const state = writeSyntheticState(dir, sizes);
  log(`control-plane: state written (${sizes.pods} pods, ${sizes.services} services, ${sizes.policies} policies); starting istiod`);
  const istiod = await startIstiod({ bundle: bundles.istiod, dir, state, debounceAfterMs: DEBOUNCE_AFTER_MS });
  const pid = istiod.proc.child.pid;
  const rssAfterLoad = rssBytes(pid);
  const cpuSync0 = cpuMicros(pid);
  const clients = startClients(bundles.clients, istiod, state, sizes.clients);
  let sync;
  let changes;
  let cpu;
  try {
    sync = await initialSync(clients, sizes.clients);
    const syncCpu = { istiodUs: cpuMicros(pid) - cpuSync0, clientsUs: cpuMicros(clients.proc.child.pid) };
    log(`control-plane: ${sizes.clients} clients synced in ${sync.allMs.toFixed(0)} ms; churning`);
    await sleep(500);
    const [p0, c0, k0, s0] = [await pushesTotal(istiod), cpuMicros(pid), cpuMicros(clients.proc.child.pid), sysMicros(pid)];
    changes = await churn(clients, state, sizes, log);
    await sleep(200);
    const pushes = (await pushesTotal(istiod)) - p0;
    cpu = { sync: syncCpu, churnIstiodUs: cpuMicros(pid) - c0, churnIstiodSysUs: sysMicros(pid) - s0, churnClientsUs: cpuMicros(clients.proc.child.pid) - k0, pushes };
  } finally {
    if (clients.proc.child.connected) clients.proc.child.send({ type: 'stop' });
    await sleep(300);
    await stopChild(clients.proc);
  }
  const rss = { afterLoadMB: rssAfterLoad / 2 ** 20, withClientsMB: rssBytes(pid) / 2 ** 20, peakMB: peakRssBytes(pid) / 2 ** 20 };
  // BENCH_CP_SKIP_CA=1 skips the CA rounds while iterating on xDS (the report then shows no CA data).
  const skipCa = process.env.BENCH_CP_SKIP_CA === '1';
  if (!skipCa) log('control-plane: CA rounds');
  const ca = skipCa ? [] : await caRounds(bundles.clients, istiod, state, sizes);
  rss.peakMB = peakRssBytes(pid) / 2 ** 20;
  await stopChild(istiod.proc);
  const result = { sizes, caPool: { keysPerIdentity: CA_KEYS_PER_IDENTITY, identities: state.identities.length }, changeGapMs: CHANGE_GAP_MS, debounce: { directoryMs: DIRECTORY_DEBOUNCE_MS, pushMs: DEBOUNCE_AFTER_MS }, startupMs: istiod.startupMs, sync, changes, cpu, rss, ca };
  // BENCH_CP_DUMP=<file>: raw result for inspection while iterating (--no-write runs keep no results file).
  if (process.env.BENCH_CP_DUMP) fs.writeFileSync(process.env.BENCH_CP_DUMP, JSON.stringify(result));
  return result;
}
