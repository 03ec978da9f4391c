import { afterEach, describe, expect, it } from 'vitest';
import { ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL } from '@mesh/api';
import { createMetricsRegistry } from '@mesh/core';
import type { DeltaXdsClient } from '@mesh/xds-client';
import { MemoryResourceStore } from './memory-store';
import { packed, sleep, startClient, startServer, TYPES, waitFor, type ClientState, type RunningServer } from './testing/harness';

const N = 50;
let server: RunningServer | undefined;
let clients: DeltaXdsClient[] = [];

afterEach(async () => {
  for (const c of clients) c.close();
  clients = [];
  await server?.stop();
  server = undefined;
});

function seededStore(): MemoryResourceStore {
  const store = new MemoryResourceStore(TYPES);
  store.set(ADDRESS_TYPE_URL, Array.from({ length: N }, (_, i) => ({ name: `addr-${i}`, any: packed(`addr-${i}`, 'v1') })));
  store.set(AUTHORIZATION_TYPE_URL, [{ name: 'ns/policy', any: packed('ns/policy', 'v1') }]);
  return store;
}

async function syncedClient(s: RunningServer, extra: Parameters<typeof startClient>[0] extends infer T ? Partial<T> : never = {}): Promise<{ client: DeltaXdsClient; state: ClientState }> {
  const c = startClient({ port: s.port, ...extra });
  clients.push(c.client);
  await waitFor(() => c.client.synced, 'client synced');
  return c;
}

const addressPushes = (s: RunningServer, from = 0) => s.pushes.slice(from).filter((p) => p.typeUrl === ADDRESS_TYPE_URL);

describe('delta xDS server + client', () => {
  it('initial wildcard sync delivers every resource of every type', async () => {
    const registry = createMetricsRegistry();
    server = await startServer({ store: seededStore(), registry });
    const { state } = await syncedClient(server);
    expect(state.get(ADDRESS_TYPE_URL)?.size).toBe(N);
    expect(state.get(AUTHORIZATION_TYPE_URL)?.get('ns/policy')).toBe('v1');
    await waitFor(() => server!.xds.syncz()[0]?.types.every((t) => t.status === 'SYNCED') === true, 'syncz SYNCED');
    const [entry] = server.xds.syncz();
    expect(entry?.podName).toBe('ztunnel-abc');
    expect(entry?.clusterId).toBe('Kubernetes');
    expect(entry?.types.find((t) => t.typeUrl === ADDRESS_TYPE_URL)?.resourceCount).toBe(N);
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/pilot_xds\{version="unknown",type="ztunnel"\} 1/);
    expect(metrics).toMatch(/pilot_xds_pushes\{type="address"\} 1/);
  });

  it('an update sends only the changed resource, a delete sends removed_resources', async () => {
    const store = seededStore();
    server = await startServer({ store });
    const { state } = await syncedClient(server);
    const before = server.pushes.length;
    store.set(ADDRESS_TYPE_URL, [{ name: 'addr-7', any: packed('addr-7', 'v2') }]);
    await waitFor(() => state.get(ADDRESS_TYPE_URL)?.get('addr-7') === 'v2', 'update applied');
    expect(addressPushes(server, before).map((p) => [p.resources.map((r) => r.name), p.removed])).toEqual([[['addr-7'], []]]);

    const mid = server.pushes.length;
    store.delete(ADDRESS_TYPE_URL, ['addr-3']);
    await waitFor(() => state.get(ADDRESS_TYPE_URL)?.has('addr-3') === false, 'delete applied');
    expect(addressPushes(server, mid).map((p) => [p.resources.length, p.removed])).toEqual([[0, ['addr-3']]]);
    expect(state.get(ADDRESS_TYPE_URL)?.size).toBe(N - 1);
  });

  it('a NACK is recorded in syncz, the client keeps its state and the same version is not resent', async () => {
    const store = seededStore();
    server = await startServer({ store });
    const { client, state } = await syncedClient(server, {
      onApply: (_t, updates) => {
        if (updates.some((u) => u.resource.namespace === 'bad')) throw new Error('payload "bad" is not acceptable');
      },
    });
    const nacks: string[] = [];
    client.on('nack', (n) => nacks.push(n.error.message));
    const versionBefore = client.resourceVersions(ADDRESS_TYPE_URL).get('addr-1');
    const before = server.pushes.length;
    store.set(ADDRESS_TYPE_URL, [{ name: 'addr-1', any: packed('addr-1', 'bad') }]);
    await waitFor(() => server!.xds.syncz()[0]?.types.some((t) => t.status === 'NACKED') === true, 'NACK recorded');
    const status = server.xds.syncz()[0]?.types.find((t) => t.typeUrl === ADDRESS_TYPE_URL);
    expect(status?.nackError).toContain('payload "bad" is not acceptable');
    expect(nacks).toHaveLength(1);
    expect(state.get(ADDRESS_TYPE_URL)?.get('addr-1')).toBe('v1');
    expect(client.resourceVersions(ADDRESS_TYPE_URL).get('addr-1')).toBe(versionBefore);

    // An unrelated change does not drag the rejected version along again.
    store.set(ADDRESS_TYPE_URL, [{ name: 'addr-2', any: packed('addr-2', 'v2') }]);
    await waitFor(() => state.get(ADDRESS_TYPE_URL)?.get('addr-2') === 'v2', 'next update');
    expect(addressPushes(server, before).map((p) => p.resources.map((r) => r.name))).toEqual([['addr-1'], ['addr-2']]);

    store.set(ADDRESS_TYPE_URL, [{ name: 'addr-1', any: packed('addr-1', 'v3') }]);
    await waitFor(() => state.get(ADDRESS_TYPE_URL)?.get('addr-1') === 'v3', 'good version applied');
    await waitFor(() => server!.xds.syncz()[0]?.types.every((t) => t.status === 'SYNCED') === true, 'SYNCED after ACK');
  });

  it('debouncing coalesces 100 quick changes into a few pushes carrying only changed resources', async () => {
    const store = seededStore();
    server = await startServer({ store, debounceAfterMs: 50 });
    const { state } = await syncedClient(server);
    const before = server.pushes.length;
    for (let i = 0; i < 100; i++) {
      store.set(ADDRESS_TYPE_URL, [{ name: `addr-${i % 10}`, any: packed(`addr-${i % 10}`, `round-${i}`) }]);
    }
    await waitFor(() => state.get(ADDRESS_TYPE_URL)?.get('addr-9') === 'round-99', 'latest state');
    await sleep(100);
    const pushes = addressPushes(server, before);
    expect(pushes.length).toBeLessThanOrEqual(2);
    const names = new Set(pushes.flatMap((p) => p.resources.map((r) => r.name)));
    expect([...names].sort()).toEqual(Array.from({ length: 10 }, (_, i) => `addr-${i}`).sort());
    for (let i = 0; i < 10; i++) expect(state.get(ADDRESS_TYPE_URL)?.get(`addr-${i}`)).toBe(`round-${90 + i}`);
  });

  it('a slow client has one push in flight and then gets the merged latest state', async () => {
    const store = seededStore();
    server = await startServer({ store, debounceAfterMs: 5 });
    let applying = false;
    let slow = false;
    let violations = 0;
    const { state } = await syncedClient(server, {
      onApply: async (t) => {
        if (!slow || t !== ADDRESS_TYPE_URL) return;
        applying = true;
        await sleep(300);
        applying = false;
      },
    });
    server.xds.on('push', (p) => {
      if (p.typeUrl === ADDRESS_TYPE_URL && applying) violations++;
    });
    slow = true;
    const before = server.pushes.length;
    store.set(ADDRESS_TYPE_URL, [{ name: 'addr-0', any: packed('addr-0', 'v2') }]);
    await waitFor(() => applying, 'first push being applied');
    for (let v = 3; v <= 6; v++) {
      store.set(ADDRESS_TYPE_URL, [{ name: 'addr-0', any: packed('addr-0', `v${v}`) }, { name: `new-${v}`, any: packed(`new-${v}`, 'x') }]);
      await sleep(20);
    }
    await waitFor(() => state.get(ADDRESS_TYPE_URL)?.get('addr-0') === 'v6', 'latest applied', 5000);
    await waitFor(() => !applying, 'idle');
    const pushes = addressPushes(server, before);
    expect(violations).toBe(0);
    expect(pushes).toHaveLength(2);
    expect(pushes[1]?.resources.map((r) => r.name).sort()).toEqual(['addr-0', 'new-3', 'new-4', 'new-5', 'new-6']);
  });
});
