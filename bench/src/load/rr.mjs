/* global process, setTimeout */
// Request/response load. rate > 0: open loop at a constant rate; each request's latency is measured from
// its SCHEDULED send time, so a stalled proxy is charged for the queue it causes (no coordinated omission).
// rate = 0: closed loop, every connection sends its next request as soon as the previous one is answered.
// Usage: node rr.mjs <host> <port> <durationMs> <connections> <rate> <bodyBytes>   -> one JSON line.
import { HttpConn, percentile, requestBytes } from './http-client.mjs';

const host = process.argv[2];
const [port, durationMs, connections, rate, bodyBytes] = process.argv.slice(3, 8).map(Number);
const request = requestBytes(host, bodyBytes);
const latenciesUs = [];
const queue = [];
let completed = 0;
const nowNs = () => process.hrtime.bigint();
let stopAt;

function onResponse(conn, scheduledNs) {
  completed++;
  if (rate > 0) latenciesUs.push(Number(nowNs() - scheduledNs) / 1000);
  if (queue.length > 0) conn.send(queue.shift());
  else if (rate === 0 && nowNs() < stopAt) conn.send(nowNs());
}

const conns = Array.from({ length: connections }, () => new HttpConn(host, port, request, onResponse));
await Promise.all(conns.map((c) => c.ready));
const startNs = nowNs();
stopAt = startNs + BigInt(durationMs) * 1_000_000n;

if (rate === 0) {
  for (const c of conns) c.send(nowNs());
  await new Promise((r) => setTimeout(r, durationMs));
} else {
  const intervalNs = BigInt(Math.round(1e9 / rate));
  let next = startNs;
  await new Promise((resolve) => {
    const tick = () => {
      const now = nowNs();
      while (next <= now && next < stopAt) {
        const free = conns.find((c) => !c.busy);
        if (free) free.send(next);
        else queue.push(next);
        next += intervalNs;
      }
      // Sleep until the next scheduled send rather than spin: on a 2-core machine a busy loop would steal
      // the CPU the proxies need. Timer lateness is charged to the request (it counts from its schedule).
      if (next >= stopAt) resolve();
      else setTimeout(tick, Math.max(0, Number(next - nowNs()) / 1e6 - 0.5));
    };
    tick();
  });
  const drainUntil = Date.now() + 2000;
  while ((queue.length > 0 || conns.some((c) => c.busy)) && Date.now() < drainUntil) await new Promise((r) => setTimeout(r, 5));
}
const elapsedS = Number(nowNs() - startNs) / 1e9;
for (const c of conns) c.close();
latenciesUs.sort((a, b) => a - b);
const pct = (p) => Math.round(percentile(latenciesUs, p) * 10) / 10;
process.stdout.write(`${JSON.stringify({
  requests: completed, elapsedS, rps: completed / (rate > 0 ? durationMs / 1000 : elapsedS),
  ...(rate > 0 ? { p50Us: pct(50), p90Us: pct(90), p99Us: pct(99), samples: latenciesUs.length } : {}),
})}\n`);
