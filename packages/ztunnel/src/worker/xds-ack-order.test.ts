// The ordering the multi-worker mode promises: istiod receives the ACK of a response only after every worker
// applied it. The real xDS wiring (createXdsClient) feeds a StateFanout whose forwarder stands in for the
// workers and holds the apply until released.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Server, ServerCredentials, type ServerDuplexStream } from '@grpc/grpc-js';
import {
  addGrpcService, AggregatedDiscoveryService, AUTHORIZATION_TYPE_URL, create, DeltaDiscoveryResponseSchema, discovery, packAuthorization, security,
  type DeltaDiscoveryRequest, type DeltaDiscoveryResponse,
} from '@mesh/api';
import { createLogger } from '@mesh/core';
import { createXdsClient } from '../app/xds';
import { MeshState } from '../state/index';
import { makePolicy } from '../state/test-fixtures';
import { StateFanout } from './state-fanout';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

async function adsServer(): Promise<{ port: number; requests: DeltaDiscoveryRequest[]; respond: (r: DeltaDiscoveryResponse) => void }> {
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
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  cleanup.push(() => server.forceShutdown());
  return { port, requests, respond: (r) => void stream?.write(r) };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 5_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('xDS ACK with data-path workers', () => {
  it('is sent only after every worker applied the response', async () => {
    const srv = await adsServer();
    const tokenFile = path.join(os.tmpdir(), `mtest-${process.pid}-xds-token`);
    fs.writeFileSync(tokenFile, 't\n');
    cleanup.push(() => fs.rmSync(tokenFile, { force: true }));
    const fanout = new StateFanout(new MeshState());
    const events: string[] = [];
    let release: () => void = () => undefined;
    fanout.connect((d) => {
      events.push(`forwarded ${d.kind}`);
      return new Promise((r) => {
        release = () => {
          events.push('workers applied');
          r();
        };
      });
    });
    const client = createXdsClient({
      target: `127.0.0.1:${srv.port}`, insecure: true, rootCertPem: '', tokenFile, clusterId: 'Kubernetes',
      instanceIp: '10.0.0.1', podName: 'ztunnel-x', podNamespace: 'istio-system', nodeName: 'node-1',
      logger: createLogger({ component: 'xds', level: 'silent' }),
    }, fanout);
    cleanup.push(() => client.close());
    client.start();
    await until(() => srv.requests.some((r) => r.typeUrl === AUTHORIZATION_TYPE_URL), 'subscription');
    const policy = makePolicy({ name: 'deny-all', namespace: 'ns', action: security.Action.DENY });
    srv.respond(create(DeltaDiscoveryResponseSchema, {
      typeUrl: AUTHORIZATION_TYPE_URL, nonce: 'n1',
      resources: [create(discovery.ResourceSchema, { name: 'ns/deny-all', version: 'v1', resource: packAuthorization(policy) })],
    }));
    const acked = (): boolean => srv.requests.some((r) => r.responseNonce === 'n1');
    await until(() => events.length === 1, 'the forward');
    await new Promise((r) => setTimeout(r, 100));
    expect(acked()).toBe(false);
    expect(fanout.state.policies.size).toBe(1);
    release();
    await until(acked, 'the ACK');
    events.push('ACK');
    expect(events).toEqual(['forwarded authorization', 'workers applied', 'ACK']);
    expect(srv.requests.find((r) => r.responseNonce === 'n1')?.errorDetail).toBeUndefined();
  });
});
