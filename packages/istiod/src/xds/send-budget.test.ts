import { afterEach, describe, expect, it } from 'vitest';
import { ADDRESS_TYPE_URL } from '@mesh/api';
import type { DeltaXdsClient } from '@mesh/xds-client';
import { MemoryResourceStore } from './memory-store';
import { SendBudget } from './send-budget';
import { packed, startClient, startServer, TYPES, waitFor, type RunningServer } from './testing/harness';

describe('SendBudget', () => {
  it('admits while under the cap, even one response larger than it, and wakes waiters in order on release', () => {
    const b = new SendBudget(100);
    const releaseBig = b.acquire(500);
    expect(b.available()).toBe(false);
    const woken: string[] = [];
    b.wait(() => woken.push('first'));
    b.wait(() => woken.push('second'));
    releaseBig();
    releaseBig(); // idempotent
    expect(woken).toEqual(['first', 'second']);
    expect(b.bytesInFlight).toBe(0);
  });

  it('stops waking waiters once one of them takes the budget again', () => {
    const b = new SendBudget(100);
    const release = b.acquire(100);
    const woken: string[] = [];
    b.wait(() => {
      woken.push('first');
      b.acquire(100);
    });
    b.wait(() => woken.push('second'));
    release();
    expect(woken).toEqual(['first']);
  });
});

describe('xDS server with a small send budget', () => {
  let server: RunningServer | undefined;
  const clients: DeltaXdsClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await server?.stop();
    server = undefined;
  });

  it('many clients syncing large snapshots never buffer more than the cap plus one response, and all get everything', async () => {
    const store = new MemoryResourceStore(TYPES);
    const names = Array.from({ length: 2000 }, (_, i) => `addr-${i}`);
    store.set(ADDRESS_TYPE_URL, names.map((n) => ({ name: n, any: packed(n, `v1-${'x'.repeat(80)}`) })));
    const capBytes = 64 * 1024;
    server = await startServer({ store, sendBudgetBytes: capBytes });
    let maxBuffered = 0;
    let largestPush = 0;
    const s = server;
    s.xds.on('push', (e) => {
      largestPush = Math.max(largestPush, e.bytes);
      maxBuffered = Math.max(maxBuffered, s.xds.sendBufferedBytes);
    });
    const started = Array.from({ length: 12 }, (_, i) => startClient({ port: s.port, pod: `zt-${i}` }));
    for (const c of started) clients.push(c.client);
    await waitFor(() => started.every((c) => c.state.get(ADDRESS_TYPE_URL)?.size === names.length), 'every client has every address', 20_000);
    expect(largestPush).toBeGreaterThan(capBytes); // each full sync is bigger than the cap
    expect(maxBuffered).toBeLessThan(capBytes + largestPush);
    await waitFor(() => s.xds.sendBufferedBytes === 0, 'budget released');
  }, 30_000);
});
