import { describe, expect, it } from 'vitest';
import { register as globalRegistry } from 'prom-client';
import { Counter, createMetricsRegistry, renderMetrics } from './registry';

describe('createMetricsRegistry', () => {
  it('returns independent registries, leaving the global one empty', async () => {
    const a = createMetricsRegistry();
    const b = createMetricsRegistry();
    const ca = new Counter({ name: 'istio_tcp_connections_opened_total', help: 'opened', registers: [a] });
    // The same name in another registry must not clash.
    new Counter({ name: 'istio_tcp_connections_opened_total', help: 'opened', registers: [b] });
    ca.inc(3);
    expect((await renderMetrics(a)).body).toContain('istio_tcp_connections_opened_total 3');
    expect((await renderMetrics(b)).body).toContain('istio_tcp_connections_opened_total 0');
    expect(await globalRegistry.metrics()).not.toContain('istio_tcp_connections_opened_total');
  });

  it('collects process metrics only when asked, with default labels', async () => {
    expect((await createMetricsRegistry().metrics()).trim()).toBe('');
    const r = createMetricsRegistry({ processMetrics: true, defaultLabels: { app: 'ztunnel' } });
    const { body, contentType } = await renderMetrics(r);
    expect(contentType).toContain('text/plain');
    expect(body).toMatch(/process_cpu_user_seconds_total\{app="ztunnel"\} \d/);
    expect(body).toContain('nodejs_eventloop_lag_seconds');
  });
});
