import { afterEach, describe, expect, it } from 'vitest';
import { credentials, type ClientDuplexStream } from '@grpc/grpc-js';
import {
  ADDRESS_TYPE_URL,
  AggregatedDiscoveryService,
  create,
  createGrpcClient,
  DeltaDiscoveryRequestSchema,
  type DeltaDiscoveryRequest,
  type DeltaDiscoveryResponse,
  type GrpcClient,
  type MessageInitShape,
} from '@mesh/api';
import { MemoryResourceStore } from './memory-store';
import { packed, sleep, startServer, TYPES, waitFor, type RunningServer } from './testing/harness';

const NODE = { id: 'ztunnel~10.0.0.1~zt.istio-system~istio-system.svc.cluster.local' };
let server: RunningServer | undefined;
let grpc: GrpcClient<typeof AggregatedDiscoveryService> | undefined;

afterEach(async () => {
  grpc?.close();
  await server?.stop();
});

type Stream = ClientDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>;
const send = (call: Stream, init: MessageInitShape<typeof DeltaDiscoveryRequestSchema>): void =>
  void call.write(create(DeltaDiscoveryRequestSchema, { typeUrl: ADDRESS_TYPE_URL, ...init }));
const summary = (r: DeltaDiscoveryResponse | undefined) => [r?.resources.map((x) => x.name).sort(), r?.removedResources];

describe('delta xDS explicit (on-demand) subscriptions', () => {
  it('serves only subscribed names, reports absent ones as removed, and honours "*" and unsubscribe', async () => {
    const store = new MemoryResourceStore(TYPES);
    store.set(ADDRESS_TYPE_URL, ['net/10.0.0.1', 'net/10.0.0.2', 'net/10.0.0.3'].map((n) => ({ name: n, any: packed(n, 'v1') })));
    server = await startServer({ store, debounceAfterMs: 5 });
    grpc = createGrpcClient(AggregatedDiscoveryService, `127.0.0.1:${server.port}`, credentials.createInsecure());
    const call: Stream = grpc.deltaAggregatedResources();
    call.on('error', () => undefined);
    const got: DeltaDiscoveryResponse[] = [];
    call.on('data', (r: DeltaDiscoveryResponse) => got.push(r));
    const ack = (): void => send(call, { responseNonce: got.at(-1)?.nonce ?? '' });

    // ztunnel with XDS_ON_DEMAND: subscribe and unsubscribe "*" first, then ask for names.
    send(call, { node: NODE, resourceNamesSubscribe: ['*'], resourceNamesUnsubscribe: ['*'] });
    await waitFor(() => got.length === 1, 'initial (empty) response');
    expect(summary(got[0])).toEqual([[], []]);
    ack();
    send(call, { resourceNamesSubscribe: ['net/10.0.0.1', 'net/10.9.9.9'] });
    await waitFor(() => got.length === 2, 'on-demand response');
    expect(summary(got[1])).toEqual([['net/10.0.0.1'], ['net/10.9.9.9']]);
    ack();

    store.set(ADDRESS_TYPE_URL, [{ name: 'net/10.0.0.2', any: packed('net/10.0.0.2', 'v2') }]);
    await sleep(60);
    expect(got).toHaveLength(2); // not subscribed: nothing sent

    send(call, { resourceNamesUnsubscribe: ['net/10.0.0.1'] });
    store.set(ADDRESS_TYPE_URL, [{ name: 'net/10.0.0.1', any: packed('net/10.0.0.1', 'v2') }]);
    await sleep(60);
    expect(got).toHaveLength(2);

    send(call, { resourceNamesSubscribe: ['*'] });
    await waitFor(() => got.length === 3, 'wildcard response');
    expect(summary(got[2])).toEqual([['net/10.0.0.1', 'net/10.0.0.2', 'net/10.0.0.3'], []]);
    call.end();
  });
});
