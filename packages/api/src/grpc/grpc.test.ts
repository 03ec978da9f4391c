// Real gRPC over loopback: server and client both built only from protobuf-es descriptors via our helpers.
import { create } from '@bufbuild/protobuf';
import { Metadata, Server, ServerCredentials, credentials, status, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AggregatedDiscoveryService } from '../gen/envoy/service/discovery/v3/ads_pb';
import {
  DeltaDiscoveryRequestSchema,
  DeltaDiscoveryResponseSchema,
  type DeltaDiscoveryRequest,
  type DeltaDiscoveryResponse,
} from '../gen/envoy/service/discovery/v3/discovery_pb';
import {
  IstioCertificateRequestSchema,
  IstioCertificateResponseSchema,
  IstioCertificateService,
} from '../gen/istio/v1/auth/ca_pb';
import { AddressSchema } from '../gen/istio/workload/workload_pb';
import { ADDRESS_TYPE_URL } from '../xds/type-url';
import { packAddress, unpackAddress } from '../xds/any';
import { createGrpcClient, type GrpcClient } from './client';
import { addGrpcService, grpcMethodPath, grpcServiceDefinition } from './service-definition';
import type { GrpcServiceImplementation } from './types';

const TEST_TIMEOUT_MS = 10_000;

let server: Server;
let address: string;
let ca: GrpcClient<typeof IstioCertificateService>;
let ads: GrpcClient<typeof AggregatedDiscoveryService>;

beforeAll(async () => {
  server = new Server();
  addGrpcService(server, IstioCertificateService, {
    createCertificate(call, callback) {
      const auth = call.metadata.get('authorization')[0];
      if (auth !== 'Bearer token') {
        callback({ code: status.UNAUTHENTICATED, details: 'missing bearer token' });
        return;
      }
      const identity = call.request.metadata?.['ImpersonatedIdentity'];
      callback(null, create(IstioCertificateResponseSchema, {
        certChain: [`leaf:${call.request.csr}:${call.request.validityDuration}:${String(identity)}`, 'root'],
      }));
    },
  });
  addGrpcService(server, AggregatedDiscoveryService, {
    streamAggregatedResources(call) {
      call.end();
    },
    deltaAggregatedResources(call) {
      let nonce = 0;
      call.on('data', (req: DeltaDiscoveryRequest) => {
        if (req.responseNonce !== '') {
          // ACK/NACK: echo the outcome back so the client can assert the server decoded it.
          call.write(create(DeltaDiscoveryResponseSchema, {
            typeUrl: req.typeUrl,
            nonce: `ack-of-${req.responseNonce}:${req.errorDetail?.message ?? ''}`,
          }));
          return;
        }
        nonce += 1;
        call.write(create(DeltaDiscoveryResponseSchema, {
          typeUrl: req.typeUrl,
          nonce: String(nonce),
          resources: req.resourceNamesSubscribe.map((name) => ({
            name,
            version: 'v1',
            resource: packAddress(create(AddressSchema, {
              type: { case: 'workload', value: { uid: name, addresses: [new Uint8Array([10, 0, 0, nonce])] } },
            })),
          })),
        }));
      });
      call.on('end', () => call.end());
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  address = `127.0.0.1:${port}`;
  ca = createGrpcClient(IstioCertificateService, address, credentials.createInsecure());
  ads = createGrpcClient(AggregatedDiscoveryService, address, credentials.createInsecure());
});

afterAll(async () => {
  ca?.close();
  ads?.close();
  await new Promise<void>((resolve) => (server ? server.tryShutdown(() => resolve()) : resolve()));
});

describe('service definitions', () => {
  it('use the proto gRPC paths', () => {
    const def = grpcServiceDefinition(AggregatedDiscoveryService);
    expect(def.deltaAggregatedResources.path).toBe(
      '/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources',
    );
    expect(def.deltaAggregatedResources.requestStream).toBe(true);
    expect(def.deltaAggregatedResources.responseStream).toBe(true);
    const caMethod = IstioCertificateService.method.createCertificate;
    expect(grpcMethodPath(caMethod)).toBe('/istio.v1.auth.IstioCertificateService/CreateCertificate');
    expect(grpcServiceDefinition(IstioCertificateService).createCertificate.requestStream).toBe(false);
  });
});

describe('unary CreateCertificate over loopback', () => {
  it('sends request fields and metadata, receives the chain', { timeout: TEST_TIMEOUT_MS }, async () => {
    const md = new Metadata();
    md.set('authorization', 'Bearer token');
    const res = await ca.createCertificate(
      { csr: 'CSR', validityDuration: 3600n, metadata: { ImpersonatedIdentity: 'spiffe://td/ns/a/sa/b' } },
      { metadata: md, deadline: Date.now() + TEST_TIMEOUT_MS },
    );
    expect(res.certChain).toEqual(['leaf:CSR:3600:spiffe://td/ns/a/sa/b', 'root']);
    expect(res.$typeName).toBe('istio.v1.auth.IstioCertificateResponse');
  });

  it('rejects with the grpc status from the server', { timeout: TEST_TIMEOUT_MS }, async () => {
    const err = await ca.createCertificate({ csr: 'x' }).then(
      () => undefined,
      (e: unknown) => e as ServiceError,
    );
    expect(err?.code).toBe(status.UNAUTHENTICATED);
    expect(err?.details).toBe('missing bearer token');
  });

  it('cancels when the signal aborts', { timeout: TEST_TIMEOUT_MS }, async () => {
    const controller = new AbortController();
    controller.abort();
    const err = await ca.createCertificate({ csr: 'x' }, { signal: controller.signal }).then(
      () => undefined,
      (e: unknown) => e as ServiceError,
    );
    expect(err?.code).toBe(status.CANCELLED);
  });
});

describe('bidi DeltaAggregatedResources over loopback', () => {
  it('subscribes, receives packed Addresses, ACKs and NACKs', { timeout: TEST_TIMEOUT_MS }, async () => {
    const stream = ads.deltaAggregatedResources();
    const responses: DeltaDiscoveryResponse[] = [];
    const waiters: Array<() => void> = [];
    stream.on('data', (res: DeltaDiscoveryResponse) => {
      responses.push(res);
      waiters.shift()?.();
    });
    const next = async (): Promise<DeltaDiscoveryResponse> => {
      if (responses.length === 0) await new Promise<void>((resolve) => waiters.push(resolve));
      const r = responses.shift();
      if (!r) throw new Error('no response');
      return r;
    };

    stream.write(create(DeltaDiscoveryRequestSchema, {
      node: { id: 'ztunnel~10.0.0.1~z.istio-system~istio-system.svc.cluster.local', metadata: { NAME: 'z' } },
      typeUrl: ADDRESS_TYPE_URL,
      resourceNamesSubscribe: ['c//Pod/ns/a', 'c//Pod/ns/b'],
    }));
    const first = await next();
    expect(first.typeUrl).toBe(ADDRESS_TYPE_URL);
    expect(first.nonce).toBe('1');
    expect(first.resources.map((r) => r.name)).toEqual(['c//Pod/ns/a', 'c//Pod/ns/b']);
    const unpacked = first.resources.map((r) => {
      if (!r.resource) throw new Error('resource missing');
      return unpackAddress(r.resource);
    });
    expect(unpacked.map((a) => (a.type.case === 'workload' ? a.type.value.uid : ''))).toEqual(['c//Pod/ns/a', 'c//Pod/ns/b']);

    stream.write(create(DeltaDiscoveryRequestSchema, { typeUrl: ADDRESS_TYPE_URL, responseNonce: first.nonce }));
    expect((await next()).nonce).toBe('ack-of-1:');

    stream.write(create(DeltaDiscoveryRequestSchema, {
      typeUrl: ADDRESS_TYPE_URL,
      responseNonce: first.nonce,
      errorDetail: { code: status.INVALID_ARGUMENT, message: 'bad resource' },
    }));
    expect((await next()).nonce).toBe('ack-of-1:bad resource');

    const ended = new Promise<void>((resolve) => stream.on('status', () => resolve()));
    stream.end();
    await ended;
  });
});

describe('static typing', () => {
  it('rejects mistyped requests and handlers at compile time (checked by tsc)', () => {
    const typecheckOnly = (): void => {
      // @ts-expect-error csr must be a string
      void ca.createCertificate({ csr: 1 });
      // @ts-expect-error the ADS stream only accepts DeltaDiscoveryRequest
      ads.deltaAggregatedResources().write(create(IstioCertificateRequestSchema));
      const impl: GrpcServiceImplementation<typeof IstioCertificateService> = {
        createCertificate(call, callback) {
          // @ts-expect-error the response type is IstioCertificateResponse
          callback(null, create(DeltaDiscoveryResponseSchema));
          callback(null, create(IstioCertificateResponseSchema, { certChain: [call.request.csr] }));
        },
      };
      void impl;
    };
    expect(typeof typecheckOnly).toBe('function');
  });
});
