import { afterEach, describe, expect, it } from 'vitest';
import { credentials, type ClientDuplexStream } from '@grpc/grpc-js';
import {
  ADDRESS_TYPE_URL,
  AggregatedDiscoveryService,
  create,
  createGrpcClient,
  DiscoveryRequestSchema,
  type DiscoveryRequest,
  type DiscoveryResponse,
  type GrpcClient,
  unpackAuthorization,
} from '@mesh/api';
import { MemoryResourceStore } from './memory-store';
import { packed, startServer, TYPES, waitFor, type RunningServer } from './testing/harness';

const NODE = { id: 'sidecar~10.0.0.9~app-1.default~default.svc.cluster.local' };
let server: RunningServer | undefined;
let grpc: GrpcClient<typeof AggregatedDiscoveryService> | undefined;

afterEach(async () => {
  grpc?.close();
  await server?.stop();
});

describe('state-of-the-world ADS', () => {
  it('answers with the full state, waits for the ACK and resends the full state on change', async () => {
    const store = new MemoryResourceStore(TYPES);
    store.set(ADDRESS_TYPE_URL, ['a', 'b', 'c'].map((n) => ({ name: n, any: packed(n, 'v1') })));
    server = await startServer({ store });
    grpc = createGrpcClient(AggregatedDiscoveryService, `127.0.0.1:${server.port}`, credentials.createInsecure());
    const call: ClientDuplexStream<DiscoveryRequest, DiscoveryResponse> = grpc.streamAggregatedResources();
    call.on('error', () => undefined);
    const got: DiscoveryResponse[] = [];
    call.on('data', (r: DiscoveryResponse) => got.push(r));
    call.write(create(DiscoveryRequestSchema, { node: NODE, typeUrl: ADDRESS_TYPE_URL }));
    await waitFor(() => got.length === 1, 'first response');
    expect(got[0]?.resources.map((a) => unpackAuthorization(a).name).sort()).toEqual(['a', 'b', 'c']);
    expect(got[0]?.versionInfo).not.toBe('');

    // Not ACKed yet: a change must wait (one response in flight per type).
    store.set(ADDRESS_TYPE_URL, [{ name: 'd', any: packed('d', 'v1') }]);
    server.xds.flushNow();
    await new Promise((r) => setTimeout(r, 50));
    expect(got).toHaveLength(1);

    call.write(create(DiscoveryRequestSchema, { typeUrl: ADDRESS_TYPE_URL, responseNonce: got[0]?.nonce ?? '', versionInfo: got[0]?.versionInfo ?? '' }));
    await waitFor(() => got.length === 2, 'full state after ACK');
    expect(got[1]?.resources.map((a) => unpackAuthorization(a).name).sort()).toEqual(['a', 'b', 'c', 'd']);
    await waitFor(() => server!.xds.syncz()[0]?.protocol === 'sotw', 'syncz entry');
    expect(server.xds.syncz()[0]?.types[0]?.resourceCount).toBe(4);
    call.end();
  });
});
