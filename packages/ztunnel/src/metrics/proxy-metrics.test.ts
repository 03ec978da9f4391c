import { describe, expect, it } from 'vitest';
import { Registry } from '@mesh/core';
import { makeWorkload } from '../state/test-fixtures';
import { ProxyMetrics } from './proxy-metrics';

const src = makeWorkload({ name: 'client-abc', namespace: 'client', sa: 'client-sa', workloadName: 'client' });
const dst = makeWorkload({ name: 'server-xyz', namespace: 'default', sa: 'server', workloadName: 'server' });

function series(text: string, metric: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${metric}{`));
}

describe('ProxyMetrics', () => {
  it('reports tallied connection events on every registry read, summed per label set', async () => {
    const registry = new Registry();
    const m = new ProxyMetrics(registry);
    const ok = m.labels({ reporter: 'source', sourceWorkload: src, destinationWorkload: dst, securityPolicy: 'mutual_tls' });
    m.connectionOpened(ok);
    m.connectionOpened(ok);
    m.connectionClosed(ok, 100, 0);
    let text = await registry.metrics();
    expect(series(text, 'istio_tcp_connections_opened_total')).toEqual([expect.stringMatching(/response_flags="-".* 2$/)]);
    expect(series(text, 'istio_tcp_connections_closed_total')).toEqual([expect.stringMatching(/ 1$/)]);
    expect(series(text, 'istio_tcp_received_bytes_total')).toEqual([expect.stringMatching(/ 100$/)]);
    // No bytes sent: no series, as before (a zero increment never creates one).
    expect(series(text, 'istio_tcp_sent_bytes_total')).toEqual([]);

    m.connectionClosed(ok, 20, 7);
    m.connectionRejected(m.labels({ reporter: 'source', sourceWorkload: src, destinationWorkload: dst, securityPolicy: 'mutual_tls', responseFlags: 'DENY' }));
    text = await registry.metrics();
    expect(series(text, 'istio_tcp_received_bytes_total')).toEqual([expect.stringMatching(/ 120$/)]);
    expect(series(text, 'istio_tcp_sent_bytes_total')).toEqual([expect.stringMatching(/ 7$/)]);
    expect(series(text, 'istio_tcp_connections_failed_total')).toEqual([expect.stringMatching(/response_flags="DENY".* 1$/)]);
    expect(series(text, 'istio_tcp_connections_opened_total')).toHaveLength(2);
    expect(series(text, 'istio_tcp_connections_closed_total')).toHaveLength(2);
  });

  it('merges tallies taken in a worker into the main registry before each read, one pull per read', async () => {
    const worker = new ProxyMetrics(new Registry());
    const main = new ProxyMetrics(new Registry());
    let pulls = 0;
    main.setRemoteSource(async () => {
      pulls++;
      main.addTallies(structuredClone(worker.takeTallies()));
    });
    const ok = worker.labels({ reporter: 'destination', sourceWorkload: src, destinationWorkload: dst, securityPolicy: 'mutual_tls' });
    worker.connectionOpened(ok);
    worker.connectionClosed(ok, 5, 9);
    worker.connectionRejected(worker.labels({ reporter: 'destination', sourceWorkload: src, destinationWorkload: dst, securityPolicy: 'mutual_tls', responseFlags: 'DENY' }));
    expect(worker.connectionsOpened).toBe(2);
    let text = await main.registry.metrics();
    expect(pulls).toBe(1);
    expect(series(text, 'istio_tcp_connections_opened_total')).toHaveLength(2);
    expect(series(text, 'istio_tcp_sent_bytes_total')).toEqual([expect.stringMatching(/ 9$/)]);
    worker.connectionClosed(ok, 1, 1);
    text = await main.registry.metrics();
    expect(series(text, 'istio_tcp_sent_bytes_total')).toEqual([expect.stringMatching(/ 10$/)]);
    expect(worker.takeTallies()).toEqual([]);
  });
});
