import { afterEach, describe, expect, it } from 'vitest';
import { ServerCredentials, status } from '@grpc/grpc-js';
import { ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL } from '@mesh/api';
import type { DeltaXdsClient, DisconnectInfo } from '@mesh/xds-client';
import { mtlsAuthenticator, staticTokenAuthenticator } from './auth';
import { MemoryResourceStore } from './memory-store';
import { makeTestPki } from './testing/certs';
import { credentials, packed, sleep, startClient, startServer, TYPES, waitFor, type RunningServer } from './testing/harness';

let servers: RunningServer[] = [];
let clients: DeltaXdsClient[] = [];

afterEach(async () => {
  for (const c of clients) c.close();
  clients = [];
  for (const s of servers) await s.stop();
  servers = [];
});

async function serve(...args: Parameters<typeof startServer>): Promise<RunningServer> {
  const s = await startServer(...args);
  servers.push(s);
  return s;
}

function client(...args: Parameters<typeof startClient>): ReturnType<typeof startClient> {
  const c = startClient(...args);
  clients.push(c.client);
  return c;
}

function store(): MemoryResourceStore {
  const s = new MemoryResourceStore(TYPES);
  s.set(ADDRESS_TYPE_URL, ['a', 'b', 'c', 'd'].map((n) => ({ name: n, any: packed(n, 'v1') })));
  s.set(AUTHORIZATION_TYPE_URL, [{ name: 'ns/p', any: packed('ns/p', 'v1') }]);
  return s;
}

describe('delta xDS across reconnects', () => {
  it('after an istiod restart the client resyncs and gets only what changed (initial_resource_versions)', async () => {
    const st = store();
    const first = await serve({ store: st });
    const { client: c, state } = client({ port: first.port });
    await waitFor(() => c.synced, 'first sync');
    const disconnects: DisconnectInfo[] = [];
    c.on('disconnected', (d) => disconnects.push(d));
    await first.stop();
    servers = [];
    await waitFor(() => disconnects.length > 0, 'disconnect seen');

    st.set(ADDRESS_TYPE_URL, [{ name: 'b', any: packed('b', 'v2') }, { name: 'e', any: packed('e', 'v1') }]);
    st.delete(ADDRESS_TYPE_URL, ['c']);
    // The client keeps serving its last good state while istiod is away.
    expect(state.get(ADDRESS_TYPE_URL)?.get('c')).toBe('v1');

    let synced = 0;
    c.on('synced', () => synced++);
    const second = await serve({ store: st, port: first.port });
    await waitFor(() => synced === 1, 'resync after restart', 8000);
    const byType = (t: string) => second.pushes.filter((p) => p.typeUrl === t);
    expect(byType(ADDRESS_TYPE_URL).map((p) => [p.resources.map((r) => r.name).sort(), p.removed])).toEqual([[['b', 'e'], ['c']]]);
    expect(byType(AUTHORIZATION_TYPE_URL).map((p) => [p.resources.length, p.removed.length])).toEqual([[0, 0]]);
    expect([...(state.get(ADDRESS_TYPE_URL)?.entries() ?? [])].sort()).toEqual([['a', 'v1'], ['b', 'v2'], ['d', 'v1'], ['e', 'v1']]);
    expect([status.UNAVAILABLE, status.CANCELLED]).toContain(disconnects[0]?.code);
  });

  it('an unauthenticated stream ends with UNAUTHENTICATED and the client backs off instead of spinning', async () => {
    const s = await serve({ store: store(), authenticate: staticTokenAuthenticator('s3cret') });
    const { client: bad } = client({ port: s.port, metadata: { authorization: 'Bearer wrong' }, initialBackoffMs: 100, maxBackoffMs: 400 });
    const seen: DisconnectInfo[] = [];
    bad.on('disconnected', (d) => seen.push(d));
    await sleep(1500);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    // 100+200+400+400 ms of backoff (with jitter >= half) bounds the attempts in 1.5 s.
    expect(seen.length).toBeLessThanOrEqual(8);
    expect(seen[0]?.code).toBe(status.UNAUTHENTICATED);
    expect(seen[0]?.details).toContain('bearer token does not match');
    expect(bad.synced).toBe(false);
    expect(s.xds.connectionCount).toBe(0);

    const { client: good } = client({ port: s.port, metadata: { authorization: 'Bearer s3cret' } });
    await waitFor(() => good.synced, 'authenticated client synced');
    expect(s.xds.syncz()[0]?.identity).toBe('token');
  });

  it('a garbage type URL gets an empty response and does not disturb the stream', async () => {
    const s = await serve({ store: store() });
    const { client: c, state } = client({ port: s.port, types: [ADDRESS_TYPE_URL, 'type.googleapis.com/no.such.Type'] });
    await waitFor(() => c.synced, 'synced incl. garbage type');
    expect(state.get('type.googleapis.com/no.such.Type')?.size).toBe(0);
    expect(state.get(ADDRESS_TYPE_URL)?.size).toBe(4);
  });

  it('a request with a malformed node id is refused with INVALID_ARGUMENT', async () => {
    const s = await serve({ store: store() });
    const { client: c } = client({ port: s.port, pod: 'x~y' });
    const seen: DisconnectInfo[] = [];
    c.on('disconnected', (d) => seen.push(d));
    await waitFor(() => seen.length > 0, 'refusal');
    expect(seen[0]?.code).toBe(status.INVALID_ARGUMENT);
    expect(seen[0]?.details).toContain('node id');
  });

  it('100 clients all sync and all receive a later change', async () => {
    const st = store();
    const s = await serve({ store: st });
    const many = Array.from({ length: 100 }, (_, i) => client({ port: s.port, pod: `zt-${i}` }));
    await waitFor(() => many.every((m) => m.client.synced), '100 clients synced', 30_000);
    expect(s.xds.syncz()).toHaveLength(100);
    const shared = st.snapshot(ADDRESS_TYPE_URL)?.get('a')?.encodedDelta;
    st.set(ADDRESS_TYPE_URL, [{ name: 'a', any: packed('a', 'v9') }]);
    await waitFor(() => many.every((m) => m.state.get(ADDRESS_TYPE_URL)?.get('a') === 'v9'), 'all got the change', 30_000);
    // The new version was encoded once, in the store; every connection copied the same cached bytes.
    expect(st.snapshot(ADDRESS_TYPE_URL)?.get('a')?.encodedDelta).not.toBe(shared);
  }, 60_000);
});

describe('delta xDS over TLS', () => {
  const pki = makeTestPki();
  const tlsTarget = { 'grpc.ssl_target_name_override': 'istiod.istio-system.svc', 'grpc.default_authority': 'istiod.istio-system.svc' };

  it('a ztunnel-style client syncs over TLS to a cert with SAN istiod.istio-system.svc', async () => {
    const s = await serve({
      store: store(),
      authenticate: staticTokenAuthenticator('tok'),
      credentials: ServerCredentials.createSsl(null, [{ private_key: pki.serverKey, cert_chain: pki.serverCert }], false),
    });
    const { client: c, state } = client({
      port: s.port,
      credentials: credentials.createSsl(pki.ca),
      channelOptions: tlsTarget,
      metadata: { authorization: 'Bearer tok', clusterid: 'Kubernetes' },
    });
    await waitFor(() => c.synced, 'TLS sync');
    expect(state.get(ADDRESS_TYPE_URL)?.size).toBe(4);
  });

  it('with mTLS the verified client certificate is the principal', async () => {
    const s = await serve({
      store: store(),
      authenticate: mtlsAuthenticator,
      credentials: ServerCredentials.createSsl(pki.ca, [{ private_key: pki.serverKey, cert_chain: pki.serverCert }], true),
    });
    const { client: c } = client({
      port: s.port,
      credentials: credentials.createSsl(pki.ca, pki.clientKey, pki.clientCert),
      channelOptions: tlsTarget,
    });
    await waitFor(() => c.synced, 'mTLS sync');
    expect(s.xds.syncz()[0]?.identity).toBe('spiffe://cluster.local/ns/istio-system/sa/ztunnel');

    const { client: noCert } = client({ port: s.port, credentials: credentials.createSsl(pki.ca), channelOptions: tlsTarget });
    const seen: DisconnectInfo[] = [];
    noCert.on('disconnected', (d) => seen.push(d));
    await waitFor(() => seen.length > 0, 'handshake refused');
    expect(noCert.synced).toBe(false);
    expect(s.xds.connectionCount).toBe(1);
  });
});
