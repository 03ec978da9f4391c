import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { suite } from '../lib/context';
import { spiffe } from '../lib/manifests';
import { meshPair, type MeshPair } from '../lib/mesh-pair';
import { PROPAGATION_TIMEOUT_MS, waitHttpOk } from '../lib/scenario';
import { waitFor } from '../lib/wait';

const s = suite();

/** Prometheus text: samples of `name` whose labels include all of `want`. */
function samples(text: string, name: string, want: Record<string, string>): Array<{ labels: string; value: number }> {
  const out: Array<{ labels: string; value: number }> = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const close = line.lastIndexOf('}');
    const labels = line.slice(name.length + 1, close);
    if (Object.entries(want).every(([k, v]) => labels.includes(`${k}="${v}"`))) out.push({ labels, value: Number(line.slice(close + 1).trim()) });
  }
  return out;
}

/** Istio's standard TCP metrics on ztunnel :15020, reported by both sides of an mTLS connection. */
describe.skipIf(s.skipReason)('8. istio_tcp_* metrics on ztunnel :15020', () => {
  const d = s.driver;
  let p: MeshPair;

  beforeAll(async () => {
    p = await meshPair(d, 'e2e-metrics');
    await waitHttpOk(d, p.ns, 'client', p.url);
  });
  afterAll(async () => p?.cleanup());

  const want = () => ({
    source_workload: 'client',
    source_workload_namespace: p.ns,
    source_principal: spiffe(p.ns, 'client'),
    destination_workload: 'server',
    destination_workload_namespace: p.ns,
    destination_principal: spiffe(p.ns, 'server'),
    connection_security_policy: 'mutual_tls',
  });

  for (const [reporter, side] of [['destination', 'serverNode'], ['source', 'clientNode']] as const) {
    it(`reporter="${reporter}" series carry workloads, principals and mutual_tls`, async () => {
      const labels = { reporter, ...want() };
      const text = await waitFor(async () => {
        const t = await d.metrics('ztunnel', p[side]);
        return samples(t, 'istio_tcp_connections_closed_total', labels).length > 0 ? t : undefined;
      }, { timeoutMs: PROPAGATION_TIMEOUT_MS, what: `istio_tcp_connections_closed_total{${JSON.stringify(labels)}} on ${p[side]}` });
      for (const name of ['istio_tcp_connections_opened_total', 'istio_tcp_connections_closed_total', 'istio_tcp_sent_bytes_total', 'istio_tcp_received_bytes_total']) {
        const got = samples(text, name, labels);
        expect(got.length, `${name} with ${JSON.stringify(labels)}`).toBeGreaterThan(0);
        expect(got.reduce((a, x) => a + x.value, 0), name).toBeGreaterThan(0);
      }
    });
  }
});
