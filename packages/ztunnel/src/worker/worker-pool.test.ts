import { describe, expect, it } from 'vitest';
import { createLogger, isMeshError, Registry } from '@mesh/core';
import { CertificateManager } from '@mesh/identity';
import { ProxyMetrics } from '../metrics/index';
import { DEFAULT_POD_PORTS } from '../proxy/index';
import { MeshState } from '../state/index';
import { StateFanout } from './state-fanout';
import { WorkerPool } from './worker-pool';

describe('WorkerPool', () => {
  it('fails fast, naming the missing worker bundle, before starting any thread', async () => {
    const fanout = new StateFanout(new MeshState());
    const err = await WorkerPool.start({
      count: 2, script: '/nonexistent/ztunnel-worker.mjs', fanout,
      settings: { network: '', trustDomain: 'cluster.local', packetMark: 1337, portReuse: true, ipv6Enabled: false, podPorts: DEFAULT_POD_PORTS, logLevel: 'silent' },
      certs: new CertificateManager({ fetch: () => Promise.reject(new Error('no CA')) }), metrics: new ProxyMetrics(new Registry()),
      logger: createLogger({ component: 'ztunnel', level: 'silent' }), onFatal: () => undefined,
    }).catch((e: unknown) => e);
    expect(isMeshError(err, 'ZTUNNEL_WORKER_SCRIPT_MISSING')).toBe(true);
    expect((err as Error).message).toContain('/nonexistent/ztunnel-worker.mjs');
  });
});
