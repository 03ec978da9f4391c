import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { createLogger, Drain, Registry, type Logger } from '@mesh/core';
import type { HbonePool } from '@mesh/hbone';
import { ProxyMetrics } from '../metrics/index';
import { makeWorkload } from '../state/test-fixtures';
import { ConnectionSet, recordOpen, recordRejected } from './copy/index';
import type { PodContext, ProxyInputs } from './context';
import { newRecord } from './record';

function setup(level: 'info' | 'warn'): { inputs: ProxyInputs; pod: PodContext; lines: Record<string, unknown>[]; accessLog: Logger } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      cb();
    },
  });
  const accessLog = createLogger({ component: 'access', level, destination });
  const inputs = { metrics: new ProxyMetrics(new Registry()), accessLog, drain: new Drain() } as unknown as ProxyInputs;
  const pod = {
    info: { uid: 'u1', name: 'client-abc', namespace: 'client', serviceAccount: 'client-sa' },
    netnsFd: -1, connections: new ConnectionSet(), pool: {} as HbonePool, logger: accessLog,
  } as PodContext;
  return { inputs, pod, lines, accessLog };
}

const source = makeWorkload({ name: 'client-abc', namespace: 'client', sa: 'client-sa', workloadName: 'client' });

describe('connection record', () => {
  it('writes the access line with the connection fields, built on first use', async () => {
    const { inputs, pod, lines } = setup('info');
    const sock = { destroy: vi.fn() };
    const rec = newRecord(inputs, pod, {
      reporter: 'source', src: '10.0.0.1:5000', dst: '10.0.0.2:80', hboneAddr: '10.0.0.2:15008', source, securityPolicy: 'mutual_tls',
    }, [sock]);
    expect(pod.connections.size).toBe(1);
    expect(inputs.drain.inFlight).toBe(1);
    recordRejected(rec, 'CONNECT', 'upstream refused');
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      msg: 'connection complete', direction: 'outbound', pod: 'client/client-abc', 'src.addr': '10.0.0.1:5000',
      'dst.addr': '10.0.0.2:80', 'dst.hbone_addr': '10.0.0.2:15008', 'src.identity': 'spiffe://cluster.local/ns/client/sa/client-sa',
      error: 'upstream refused',
    });
    expect(pod.connections.size).toBe(0);
    expect(inputs.drain.inFlight).toBe(0);
  });

  it('builds no child logger when the access log level writes nothing', () => {
    const { inputs, pod, accessLog } = setup('warn');
    const child = vi.spyOn(accessLog, 'child');
    const rec = newRecord(inputs, pod, { reporter: 'destination', src: 'a:1', dst: 'b:2', securityPolicy: 'mutual_tls' }, []);
    recordOpen(rec);
    recordRejected(rec, 'DENY', 'denied');
    expect(child).not.toHaveBeenCalled();
  });

  it('releases pod tracking of everything tracked, once', () => {
    const { inputs, pod } = setup('warn');
    const rec = newRecord(inputs, pod, { reporter: 'destination', src: 'a:1', dst: 'b:2', securityPolicy: 'mutual_tls' }, []);
    const a = { destroy: vi.fn() };
    const b = { destroy: vi.fn() };
    rec.track(a);
    rec.track(b);
    expect(pod.connections.size).toBe(2);
    rec.release();
    rec.release();
    expect(pod.connections.size).toBe(0);
  });
});
