// Summary (medians over rounds), goals and markdown for the l7 target.
import { percentile } from './cp.mjs';

const fmt = (v, d = 2) => (v == null || !Number.isFinite(v) ? '—' : Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(d));
const FIELDS = ['non2xx', 'fixedErrors', 'rps', 'cpuUsPerReq', 'standInCpuUsPerReq', 'p50Us', 'p99Us', 'fixedRps', 'fixedCpuUsPerReq', 'rssMB', 'addedP50Us', 'addedP99Us'];

/** The open-loop generator the fixed-rate rounds actually used (rrgen.c unless gcc was missing). */
function fixedToolText(r) {
  const tools = new Set(r.rounds.flatMap((round) => Object.values(round).map((v) => v.fixedTool)).filter(Boolean));
  if (tools.size === 1 && tools.has('node rr.mjs')) return 'bench/src/load/rr.mjs (node, setTimeout scheduling: up to ~1 ms of timer lateness per request; rrgen.c could not be built: no gcc, or see the run log)';
  return 'bench/src/load/rrgen.c (C, epoll + timerfd sleeping until each scheduled send)';
}

export function summarizeL7(r) {
  for (const round of r.rounds) {
    const d = round.direct;
    for (const v of Object.values(round)) {
      v.addedP50Us = d ? v.p50Us - d.p50Us : undefined;
      v.addedP99Us = d ? v.p99Us - d.p99Us : undefined;
    }
  }
  const out = {};
  for (const name of Object.keys(r.peers)) {
    if (!r.peers[name].available) continue;
    out[name] = Object.fromEntries(FIELDS.map((f) => [f, percentile(r.rounds.map((x) => x[name]?.[f]).filter((v) => v != null && Number.isFinite(v)), 50)]));
  }
  return out;
}

export function l7Goals(s, sizes) {
  const w = s.waypoint ?? {};
  const ratio = w.rps != null && s.haproxy?.rps ? w.rps / s.haproxy.rps : undefined;
  const g = (goal, value, unit, met) => ({ goal, value, unit, met: value == null ? undefined : met(value) });
  return [
    g('waypoint req/s >= 0.5x HAProxy (50 connections)', ratio, 'x HAProxy', (v) => v >= 0.5),
    g('waypoint CPU per request < 250 us (waypoint process)', w.cpuUsPerReq, 'us', (v) => v < 250),
    g(`waypoint adds <= 1 ms p99 at ${sizes.rate} rps${sizes.rate === 1000 ? '' : ' (the goal is at 1000 rps)'}`, w.addedP99Us == null ? undefined : w.addedP99Us / 1000, 'ms over direct', (v) => v <= 1),
  ];
}

export function renderL7({ result: r, summary: s, machine, command, date }) {
  const z = r.sizes;
  const cols = [['rps', 'req/s (50 conns)'], ['cpuUsPerReq', 'CPU us/req (proxy)'], ['p50Us', `p50 us @${z.rate} rps`], ['p99Us', `p99 us @${z.rate} rps`],
    ['addedP50Us', 'added p50 us'], ['addedP99Us', 'added p99 us'], ['rssMB', 'RSS MB (proxy)']];
  const head = ['peer', ...cols.map((c) => c[1]), 'req/s / direct', 'req/s / haproxy'];
  const rows = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const [name, info] of Object.entries(r.peers)) {
    if (!info.available) {
      rows.push(`| ${name} | not available: ${info.reason.replace(/\|/g, '/')} |${cols.map(() => '').join(' |')} | |`);
      continue;
    }
    const v = s[name];
    const ratio = (o) => (v.rps && s[o]?.rps ? `${(v.rps / s[o].rps).toFixed(2)}x` : '—');
    rows.push(`| ${name}${v.non2xx ? ` (non-2xx: ${fmt(v.non2xx)})` : ''}${v.fixedErrors ? ` (fixed-rate errors: ${fmt(v.fixedErrors)})` : ''} | ${cols.map((c) => fmt(v[c[0]])).join(' | ')} | ${ratio('direct')} | ${ratio('haproxy')} |`);
  }
  const goals = l7Goals(s, z).map((g) => `| ${g.goal} | ${fmt(g.value)} ${g.unit} | ${g.met == null ? 'no data' : g.met ? 'met' : 'not met'} |`);
  return [
    '## L7: waypoint vs HAProxy (mode http) and nginx (proxy_pass)',
    '',
    `- Date: ${date}`,
    `- Machine: ${machine.nproc} CPUs (${machine.cpu}), kernel ${machine.kernel}, node ${machine.node}; shared with other work, noisy.`,
    `- Command: \`${command}\``,
    `- Rounds: ${z.rounds}, peers alternating within each round; figures are medians over rounds. Upstream: ${r.upstream} on loopback, shared by every peer.`,
    '- Shape: direct = load generator -> upstream. HAProxy = mode http, nbthread 1, http-reuse always. nginx = 1 worker, proxy_pass to an upstream block with keepalive 64. Waypoint = load generator -> "front" (a node process standing in for the source ztunnel: each accepted TCP connection becomes an HBONE CONNECT to the waypoint over pooled HTTP/2 + mTLS, authority = service VIP) -> the real WaypointApp (bundled, state injected: one service, one route, one L7 ALLOW AuthorizationPolicy on principal + method + path, request metrics on; its upstream is HBONE to the pod) -> "back" (stand-in for the destination ztunnel: HBONE server terminating into the upstream). The waypoint path therefore carries two extra mTLS hops and two extra processes the other peers do not have; "CPU us/req (proxy)" for the waypoint is the waypoint process alone, and the stand-ins\' CPU is listed below. waypoint-l4 = the same three processes with the service port declared TCP (the waypoint relays bytes between the two HBONE legs after an L4 ALLOW on the principal; no HTTP parsing): the floor of the waypoint path without its L7 pipeline.',
    `- Load: ${z.connections} connections closed loop = wrk -t1 with a 1 KB POST body for ${z.rrMs / 1000} s; fixed rate = ${fixedToolText(r)} open loop at ${z.rate} rps over ${z.fixedConns} connections for ${z.fixedMs / 1000} s (latency from the scheduled send time); "added" = peer minus direct in the same round. CPU = utime+stime from /proc; RSS after the round.`,
    '',
    '### Goals (from the waypoint issue)',
    '',
    '| goal | this run | result |',
    '|---|---|---|',
    ...goals,
    '',
    '### Results',
    '',
    ...rows,
    '',
    `Waypoint path stand-ins (front + back ztunnel stand-ins) CPU per request: ${fmt(s.waypoint?.standInCpuUsPerReq)} us (waypoint-l4 run: ${fmt(s['waypoint-l4']?.standInCpuUsPerReq)} us).`,
  ].join('\n');
}
