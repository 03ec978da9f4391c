import { afterEach, describe, expect, it } from 'vitest';
import { credentials, Server, ServerCredentials, type ServerDuplexStream } from '@grpc/grpc-js';
import {
  addGrpcService,
  AggregatedDiscoveryService,
  AUTHORIZATION_TYPE_URL,
  AuthorizationSchema,
  create,
  DeltaDiscoveryResponseSchema,
  discovery,
  packAuthorization,
  unpackAuthorization,
  wkt,
  type DeltaDiscoveryRequest,
  type DeltaDiscoveryResponse,
} from '@mesh/api';
import { Backoff } from './backoff';
import { DeltaXdsClient } from './client';
import { defineXdsType } from './types';

describe('Backoff', () => {
  it('doubles up to the cap with jitter in [d/2, d] and resets', () => {
    const low = new Backoff(100, 1000, () => 0);
    expect([low.next(), low.next(), low.next(), low.next(), low.next()]).toEqual([50, 100, 200, 400, 500]);
    const high = new Backoff(100, 1000, () => 1);
    expect([high.next(), high.next()]).toEqual([100, 200]);
    high.reset();
    expect(high.next()).toBe(100);
    expect(() => new Backoff(0, 10)).toThrow(RangeError);
  });
});

/** A scripted ADS server: records requests and lets the test send responses. */
async function scriptedServer(): Promise<{ port: number; requests: DeltaDiscoveryRequest[]; respond: (r: DeltaDiscoveryResponse) => void; stop: () => void }> {
  const server = new Server();
  const requests: DeltaDiscoveryRequest[] = [];
  let stream: ServerDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse> | undefined;
  addGrpcService(server, AggregatedDiscoveryService, {
    streamAggregatedResources: (call) => call.end(),
    deltaAggregatedResources: (call) => {
      stream = call;
      call.on('data', (r: DeltaDiscoveryRequest) => requests.push(r));
      call.on('error', () => undefined);
    },
  });
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
  );
  return {
    port,
    requests,
    respond: (r) => void stream?.write(r),
    stop: () => server.forceShutdown(),
  };
}

const waitFor = async (cond: () => boolean, what: string): Promise<void> => {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup) c();
  cleanup = [];
});

describe('DeltaXdsClient', () => {
  it('subscribes wildcard with the node, ACKs good responses and NACKs undecodable ones keeping its state', async () => {
    const srv = await scriptedServer();
    cleanup.push(srv.stop);
    const state = new Map<string, string>();
    const client = new DeltaXdsClient({
      address: `127.0.0.1:${srv.port}`,
      credentials: credentials.createInsecure(),
      metadata: { authorization: 'Bearer t', clusterid: 'Kubernetes' },
      node: { id: 'ztunnel~1.1.1.1~zt.ns~ns.svc.cluster.local' },
      types: [defineXdsType({
        typeUrl: AUTHORIZATION_TYPE_URL,
        decode: unpackAuthorization,
        apply(updates, removed) {
          for (const u of updates) state.set(u.name, u.resource.namespace);
          for (const r of removed) state.delete(r);
        },
      })],
    });
    cleanup.push(() => client.close());
    let synced = false;
    client.on('synced', () => (synced = true));
    client.start();
    await waitFor(() => srv.requests.length === 1, 'initial request');
    const first = srv.requests[0]!;
    expect(first.node?.id).toContain('ztunnel~');
    expect(first.typeUrl).toBe(AUTHORIZATION_TYPE_URL);
    expect(first.resourceNamesSubscribe).toEqual([]);

    const good = create(discovery.ResourceSchema, { name: 'ns/p', version: 'v1', resource: packAuthorization(create(AuthorizationSchema, { namespace: 'ok' })) });
    srv.respond(create(DeltaDiscoveryResponseSchema, { typeUrl: AUTHORIZATION_TYPE_URL, nonce: 'n1', resources: [good] }));
    await waitFor(() => srv.requests.length === 2, 'ACK');
    expect(srv.requests[1]?.responseNonce).toBe('n1');
    expect(srv.requests[1]?.errorDetail).toBeUndefined();
    expect(synced).toBe(true);
    expect(state.get('ns/p')).toBe('ok');

    // A payload of the wrong message type cannot be decoded: NACK with INVALID_ARGUMENT, nothing applied.
    const wrong = create(wkt.AnySchema, { typeUrl: 'type.googleapis.com/istio.workload.Address', value: new Uint8Array([1]) });
    srv.respond(create(DeltaDiscoveryResponseSchema, {
      typeUrl: AUTHORIZATION_TYPE_URL, nonce: 'n2', removedResources: ['ns/p'],
      resources: [create(discovery.ResourceSchema, { name: 'ns/q', version: 'v1', resource: wrong })],
    }));
    await waitFor(() => srv.requests.length === 3, 'NACK');
    expect(srv.requests[2]?.responseNonce).toBe('n2');
    expect(srv.requests[2]?.errorDetail?.code).toBe(3);
    expect(srv.requests[2]?.errorDetail?.message).toContain('istio.security.Authorization');
    expect(state.get('ns/p')).toBe('ok');
    expect([...client.resourceVersions(AUTHORIZATION_TYPE_URL)]).toEqual([['ns/p', 'v1']]);
  });
});
