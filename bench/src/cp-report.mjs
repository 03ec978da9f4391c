// Summary, goals and markdown for the control-plane target. The peer/floor of each figure is its goal (ratio
// to goal) and, for the CA, raw ECDSA P-256 signing (crypto.sign) measured in the same run.
import { percentile } from './cp.mjs';

const fmt = (v, d = 2) => (v == null || !Number.isFinite(v) ? '—' : Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(d));
const med = (xs) => percentile(xs.filter((x) => x != null), 50);

export function summarizeCp(r) {
  const allMs = r.changes.map((c) => c.allMs).filter((x) => x != null);
  const perClient = r.changes.flatMap((c) => c.perClientMs);
  const fixedMs = r.debounce.directoryMs + r.debounce.pushMs;
  const fanOut = r.changes.filter((c) => c.allMs != null).map((c) => c.allMs - c.firstMs);
  return {
    syncAllS: r.sync.allMs / 1000,
    resourcesPerClient: r.sync.resourcesPerClient,
    changesComplete: allMs.length,
    changesTotal: r.changes.length,
    allP50Ms: percentile(allMs, 50),
    allP99Ms: percentile(allMs, 99),
    clientP50Ms: percentile(perClient, 50),
    clientP99Ms: percentile(perClient, 99),
    fanOutP99Ms: percentile(fanOut, 99),
    afterDebounceP99Ms: allMs.length ? percentile(allMs, 99) - fixedMs : undefined,
    fixedMs,
    cpuUsPerPush: r.cpu.pushes ? r.cpu.churnIstiodUs / r.cpu.pushes : undefined,
    clientCpuUsPerPush: r.cpu.pushes ? r.cpu.churnClientsUs / r.cpu.pushes : undefined,
    pushes: r.cpu.pushes,
    syncIstiodCpuMs: r.cpu.sync.istiodUs / 1000,
    syncClientsCpuMs: r.cpu.sync.clientsUs / 1000,
    rssPeakMB: r.rss.peakMB,
    ...summarizeCa(r.ca),
  };
}

/** Medians over CA rounds; CPU per certificate for istiod and for the client process (same 2 cores). */
export function summarizeCa(rounds) {
  return {
    certsPerS: med(rounds.map((c) => c.certsPerS)),
    rawSignPerS: med(rounds.map((c) => c.rawSignPerS)),
    istiodCpuUsPerCert: med(rounds.map((c) => c.istiodCpuUsPerCert)),
    clientCpuUsPerCert: med(rounds.map((c) => c.clientCpuUsPerCert)),
    caErrors: rounds.flatMap((c) => c.errors),
  };
}

/** `--only ca`: printed, never written to docs/performance.md (the section needs the xDS figures too). */
export function renderCaOnly({ result: r, machine, command, date }) {
  const s = summarizeCa(r.ca);
  return [
    `## control-plane CA rounds only (${date}, ${machine.nproc} CPUs, node ${machine.node}; \`${command}\`)`,
    '',
    '| round | certs/s | istiod CPU/cert | client CPU/cert | raw signs/s | errors |',
    '|---|---|---|---|---|---|',
    ...r.ca.map((c) => `| ${c.round} | ${fmt(c.certsPerS)} | ${fmt(c.istiodCpuUsPerCert)} us | ${fmt(c.clientCpuUsPerCert)} us | ${fmt(c.rawSignPerS)} | ${c.errors.length} |`),
    `| median | ${fmt(s.certsPerS)} | ${fmt(s.istiodCpuUsPerCert)} us | ${fmt(s.clientCpuUsPerCert)} us | ${fmt(s.rawSignPerS)} | ${s.caErrors.length} |`,
  ].join('\n');
}

export function cpGoals(s, sizes) {
  const goal = (text, value, unit, target, lowerIsBetter) => ({
    goal: text, value, unit, ratio: value == null ? undefined : value / target,
    met: value == null ? undefined : lowerIsBetter ? value <= target : value >= target,
  });
  return [
    goal(`initial sync of ${sizes.clients} clients within 10 s`, s.syncAllS, 's', 10, true),
    goal(`single change to all ${sizes.clients} clients within 100 ms p99 (from the file edit)`, s.allP99Ms, 'ms', 100, true),
    goal(`... same, minus istiod's fixed debounce windows (${s.fixedMs} ms)`, s.afterDebounceP99Ms, 'ms', 100, true),
    goal('istiod RSS < 512 MB (peak, VmHWM)', s.rssPeakMB, 'MB', 512, true),
    goal('CA >= 1,000 certificates/s', s.certsPerS, 'certs/s', 1000, false),
  ];
}

export function renderCp({ result: r, summary: s, machine, command, date }) {
  const z = r.sizes;
  const rows = cpGoals(s, z).map((g) => `| ${g.goal} | ${fmt(g.value)} ${g.unit} | ${g.ratio == null ? '—' : `${g.ratio.toFixed(2)}x`} | ${g.met == null ? 'no data' : g.met ? 'met' : 'not met'} |`);
  return [
    '## control-plane: istiod with synthetic state, real delta-xDS clients and CA callers',
    '',
    `- Date: ${date}`,
    `- Machine: ${machine.nproc} CPUs (${machine.cpu}), kernel ${machine.kernel}, node ${machine.node}; shared with other work, noisy.`,
    `- Command: \`${command}\``,
    `- State: ${z.pods} pods on ${z.nodes} nodes, ${z.services} services in ${z.namespaces} ambient namespaces, ${z.policies} AuthorizationPolicies + 1 PeerAuthentication, as manifests for istiod's directory config source (CONFIG_SOURCE=dir:). Each client receives ${fmt(s.resourcesPerClient)} Address resources.`,
    `- istiod: the bundled process (packages/istiod/dist/istiod.mjs), TLS + bearer token from a tokens file, PILOT_DEBOUNCE_AFTER=${r.debounce.pushMs}ms, CONFIG_DIR_DEBOUNCE (directory source) at its default ${r.debounce.directoryMs}ms, XDS_SEND_BUDGET_BYTES at its default 16 MiB, LOG_LEVEL=warn; started and ready with the full state in ${fmt(r.startupMs / 1000)} s.`,
    `- Clients: ${z.clients} @mesh/xds-client DeltaXdsClients (Address + Authorization, one TLS HTTP/2 connection each, wildcard delta subscriptions, ACK per response, every resource's name/version kept for reconnects) in ONE separate node process on the same 2 cores. Responses are read by the client's wire-level DeltaDiscoveryResponse decoder (names, versions, Any payloads as views); the bench's handlers do not unpack the Address/Authorization payloads, and report updates to the harness in 50 ms batches (times are stamped when each update is applied). Initial sync = from starting the clients to the last client's \`synced\`. Change = rewrite the churn pod's own file with a new pod IP; latency = file write -> the client's update callback for that workload, ${z.changes} changes ${r.changeGapMs} ms apart. The path includes the directory source's ${r.debounce.directoryMs} ms debounce and the ${r.debounce.pushMs} ms push debounce; the second propagation goal row subtracts them.`,
    `- CPU per push = istiod utime+stime (/proc) during the changes / pilot_xds_pushes delta (responses written to clients). CA = CreateCertificate over gRPC+TLS with a ztunnel token of node-0 impersonating identities of pods on node-0, CSRs from a pool of ${r.caPool.keysPerIdentity} keys x ${r.caPool.identities} identities built before timing, ${z.caCallers} callers (ztunnels: one channel and TLS connection each, as grpc-js would otherwise share one) x ${z.caConcurrency} calls in flight, all in one client process, ${z.caDurationMs / 1000} s per round; floor = raw ECDSA P-256 crypto.sign of a 400-byte TBS in a loop (1 s), alternating with the CA rounds (${z.caRounds}); medians over rounds.`,
    '',
    '### Goals (from the istiod issue)',
    '',
    '| goal | this run | ratio to goal | result |',
    '|---|---|---|---|',
    ...rows,
    '',
    '### Propagation of a single pod change',
    '',
    '| figure | value |',
    '|---|---|',
    `| changes reaching every client | ${s.changesComplete} / ${s.changesTotal} |`,
    `| edit -> all clients p50 / p99 | ${fmt(s.allP50Ms)} / ${fmt(s.allP99Ms)} ms |`,
    `| edit -> each client p50 / p99 (all samples) | ${fmt(s.clientP50Ms)} / ${fmt(s.clientP99Ms)} ms |`,
    `| first client -> last client p99 (fan-out) | ${fmt(s.fanOutP99Ms)} ms |`,
    `| xDS responses pushed during the changes | ${fmt(s.pushes)} |`,
    `| istiod CPU per push | ${fmt(s.cpuUsPerPush)} us |`,
    `| client process CPU per push (all clients) | ${fmt(s.clientCpuUsPerPush)} us |`,
    '',
    '### Initial sync, memory, CA',
    '',
    '| figure | value | ratio |',
    '|---|---|---|',
    `| initial sync, all clients | ${fmt(s.syncAllS)} s | ${fmt(s.syncAllS / 10)}x of the 10 s goal |`,
    `| CPU during initial sync: istiod / client process | ${fmt(s.syncIstiodCpuMs)} / ${fmt(s.syncClientsCpuMs)} ms | — |`,
    `| istiod RSS after loading state / with clients / peak | ${fmt(r.rss.afterLoadMB)} / ${fmt(r.rss.withClientsMB)} / ${fmt(s.rssPeakMB)} MB | ${fmt(s.rssPeakMB / 512)}x of 512 MB |`,
    `| CA certificates/s | ${fmt(s.certsPerS)} | ${fmt(s.certsPerS / 1000)}x of goal, ${s.rawSignPerS ? (s.certsPerS / s.rawSignPerS).toFixed(3) : '—'}x of raw signing |`,
    `| raw ECDSA P-256 signatures/s (one core, same run) | ${fmt(s.rawSignPerS)} | 1.00x |`,
    `| istiod CPU per certificate | ${fmt(s.istiodCpuUsPerCert)} us | — |`,
    `| CA client process CPU per certificate (same 2 cores) | ${fmt(s.clientCpuUsPerCert)} us | — |`,
    `| CA errors | ${s.caErrors.length ? s.caErrors.slice(0, 2).join('; ').replace(/\|/g, '/') : 'none'} | — |`,
  ].join('\n');
}
