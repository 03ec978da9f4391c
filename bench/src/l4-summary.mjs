// Turns the per-round L4 results into medians, ratios (to the floor and to the named peer) and the
// ztunnel issue's goals with met / not met. Nothing here invents a figure: a missing input gives null.

export function median(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

const sum = (xs) => xs.reduce((a, b) => a + b, 0);
const maxOf = (xs) => (xs.length ? Math.max(...xs) : null);

/** Per-round derived figures of one measurement. */
function derive(id, r, directRound) {
  if (!r || r.error) return null;
  const cpu = (r.cpu ?? []).map((c) => c.us);
  switch (id) {
    case 'bulk1':
    case 'bulk8':
      return { gbps: r.gbps, pairCpuMsPerGB: cpu.length ? sum(cpu) / 1000 / (r.bytes / 1e9) : null };
    case 'connrate':
      return { connPerS: r.connPerS, pairCpuUsPerConn: cpu.length && r.connections ? sum(cpu) / r.connections : null };
    case 'rr':
      return { rps: r.rps, maxProxyCpuUsPerReq: cpu.length && r.requests ? maxOf(cpu) / r.requests : null, pairCpuUsPerReq: cpu.length && r.requests ? sum(cpu) / r.requests : null };
    case 'fixed': {
      const added = (k) => (directRound && !directRound.error ? r[k] - directRound[k] : null);
      return {
        p50Us: r.p50Us, p90Us: r.p90Us, p99Us: r.p99Us, addedP50Us: added('p50Us'), addedP90Us: added('p90Us'), addedP99Us: added('p99Us'),
        maxProxyCpuUsPerReq: cpu.length && r.requests ? maxOf(cpu) / r.requests : null,
      };
    }
    case 'idle':
      return { idleRssMB: maxOf(r.idle.map((x) => x.bytes / 2 ** 20)), loadedRssMB: maxOf(r.loaded.map((x) => x.bytes / 2 ** 20)), open: r.open };
    default:
      return null;
  }
}

export function summarizeL4(result) {
  const out = {};
  for (const { id } of result.measurements) {
    out[id] = {};
    const direct = result.peers.direct?.rounds[id] ?? [];
    for (const [name, p] of Object.entries(result.peers)) {
      if (!p.available) continue;
      const rounds = (p.rounds[id] ?? []).map((r, i) => derive(id, r, direct[i]));
      const keys = Object.keys(rounds.find((x) => x) ?? {});
      const med = {};
      for (const k of keys) med[k] = median(rounds.map((x) => x?.[k]));
      med.errors = (p.rounds[id] ?? []).filter((r) => r?.error).map((r) => r.error);
      out[id][name] = med;
    }
  }
  return out;
}

const ratio = (a, b) => (a == null || b == null || b === 0 ? null : a / b);

/** The goals from the ztunnel issue, evaluated on the medians of this run. */
export function l4Goals(s, sizes) {
  const zt = (id) => s[id]?.ztunnel;
  const peer = (id, n) => s[id]?.[n];
  const g = [];
  const add = (goal, value, met, note) => g.push({ goal, value, met: value == null ? null : met, note });
  const bulkRatio = ratio(zt('bulk1')?.gbps, peer('bulk1', 'stunnel')?.gbps);
  add('HBONE pair bulk (1 conn) >= stunnel pair', bulkRatio, bulkRatio >= 1, 'ratio ztunnel/stunnel');
  const rrRatio = ratio(zt('rr')?.rps, peer('rr', 'haproxy')?.rps);
  add('1 KB request rate >= HAProxy TLS pair', rrRatio, rrRatio >= 1, 'ratio ztunnel/haproxy');
  const cpuReq = zt('rr')?.maxProxyCpuUsPerReq ?? null;
  add('CPU per request <= 60 us per ztunnel', cpuReq, cpuReq <= 60, 'us, busier ztunnel, closed-loop 1 KB');
  const connRatio = ratio(zt('connrate')?.connPerS, peer('connrate', 'haproxy')?.connPerS);
  add('New connections/s >= 3x HAProxy TLS pair', connRatio, connRatio >= 3, 'ratio ztunnel/haproxy');
  const connCpu = zt('connrate')?.pairCpuUsPerConn ?? null;
  add('... at <= 500 us CPU per connection for the pair', connCpu, connCpu <= 500, 'us, both ztunnels');
  // The HAProxy TLS pair's figure from the same rounds, so a reader can tell the proxy from the machine.
  const haproxyAdded = (key) => {
    const v = peer('fixed', 'haproxy')?.[key];
    return v == null ? '' : ` (HAProxy TLS pair, same run: ${(v / 1000).toFixed(2)} ms)`;
  };
  const p50 = zt('fixed')?.addedP50Us ?? null;
  add(`At ${sizes.rate} rps of 1 KB the pair adds <= 0.17 ms p50`, p50 == null ? null : p50 / 1000, p50 <= 170, `ms over direct${haproxyAdded('addedP50Us')}`);
  const p99 = zt('fixed')?.addedP99Us ?? null;
  add(`At ${sizes.rate} rps of 1 KB the pair adds <= 0.20 ms p99`, p99 == null ? null : p99 / 1000, p99 <= 200, `ms over direct${haproxyAdded('addedP99Us')}`);
  const rss = zt('idle')?.loadedRssMB ?? null;
  add(`RSS < 128 MB with ${sizes.idleCount} open tunnelled connections`, rss, rss < 128, 'MB, larger ztunnel');
  return g;
}
