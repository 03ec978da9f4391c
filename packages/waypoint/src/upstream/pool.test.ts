import { create, waypoint, type MessageInitShape } from '@mesh/api';
import { describe, expect, it } from 'vitest';
import { ConnectionPoolLimiter, type Admission } from './pool';

const limits = (init: Omit<MessageInitShape<typeof waypoint.ConnectionPoolSchema>, '$typeName'>): waypoint.ConnectionPool => create(waypoint.ConnectionPoolSchema, init);

describe('ConnectionPoolLimiter', () => {
  it('queues up to max_pending_requests beyond max_connections, overflows the rest, and drains FIFO', async () => {
    const l = new ConnectionPoolLimiter(limits({ maxConnections: 1, maxPendingRequests: 1 }));
    const signal = new AbortController().signal;
    const first = await l.admit(signal);
    const second = l.admit(signal);
    expect(await l.admit(signal)).toBe('overflow');
    expect(l.queued).toBe(1);
    (first as Admission).release();
    const granted = await second;
    expect(granted).not.toBe('overflow');
    expect(l.inFlight).toBe(1);
    (granted as Admission).release();
    (granted as Admission).release();
    expect(l.inFlight).toBe(0);
  });

  it('max_requests caps in-flight requests without queueing', async () => {
    const l = new ConnectionPoolLimiter(limits({ maxRequests: 2 }));
    const s = new AbortController().signal;
    await l.admit(s);
    await l.admit(s);
    expect(await l.admit(s)).toBe('overflow');
  });

  it('a cancelled pending request leaves the queue', async () => {
    const l = new ConnectionPoolLimiter(limits({ maxConnections: 1 }));
    await l.admit(new AbortController().signal);
    const ctl = new AbortController();
    const waiting = l.admit(ctl.signal);
    ctl.abort();
    expect(await waiting).toBe('overflow');
    expect(l.queued).toBe(0);
  });

  it('no limits: everything is admitted', async () => {
    const l = new ConnectionPoolLimiter(undefined);
    const s = new AbortController().signal;
    for (let i = 0; i < 100; i++) expect(await l.admit(s)).not.toBe('overflow');
  });
});
