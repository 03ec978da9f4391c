// Exact-bytes tests. Expected encodings are computed by hand from the field numbers and wire types in
// Istio's/Envoy's protos (tag = field_number << 3 | wire_type, varints little-endian base 128), NOT by
// re-encoding, so a wrong field number or type in our .proto files makes them fail.
// protobuf-es (like Go and prost) writes fields in field-number order.
import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { AuthorizationSchema, Action, Scope } from '../gen/istio/security/authorization_pb';
import {
  AddressSchema,
  AppProtocol,
  LoadBalancing_Mode,
  LoadBalancing_Scope,
  TunnelProtocol,
  Visibility,
  WorkloadSchema,
  WorkloadStatus,
} from '../gen/istio/workload/workload_pb';
import { Version, WorkloadRequestSchema, WorkloadResponseSchema, ZdsHelloSchema } from '../gen/istio/workload/zds/zds_pb';
import { IstioCertificateRequestSchema, IstioCertificateResponseSchema } from '../gen/istio/v1/auth/ca_pb';
import {
  DeltaDiscoveryRequestSchema,
  DeltaDiscoveryResponseSchema,
} from '../gen/envoy/service/discovery/v3/discovery_pb';

/** Hex bytes separated by whitespace; `"..."` segments are ASCII text. */
function wire(spec: string): string {
  return spec.replace(/"([^"]*)"/g, (_m, text: string) => Buffer.from(text, 'ascii').toString('hex'))
    .replace(/\s+/g, '')
    .toLowerCase();
}

function encodeHex<D extends DescMessage>(schema: D, init: MessageInitShape<D>): string {
  return Buffer.from(toBinary(schema, create(schema, init))).toString('hex');
}

function decodeHex<D extends DescMessage>(schema: D, hex: string) {
  return fromBinary(schema, Buffer.from(hex, 'hex'));
}

describe('istio.workload wire format', () => {
  it('Workload.uid is field 20 (tag bytes a2 01)', () => {
    expect(encodeHex(WorkloadSchema, { uid: 'u' })).toBe(wire('a2 01 01 "u"'));
  });

  const workloadHex = wire(`
    0a 4e                               # Address.workload (1), 78 bytes
      0a 01 "p"                         # name (1)
      12 02 "ns"                        # namespace (2)
      1a 04 0a 00 00 01                 # addresses (3): 10.0.0.1
      28 01                             # tunnel_protocol (5) = HBONE
      3a 02 "sa"                        # service_account (7)
      42 0b                             # waypoint (8) GatewayAddress
        12 06 12 04 0a 00 00 09         #   address (2) NetworkAddress{address (2) = 10.0.0.9}
        18 a0 75                        #   hbone_mtls_port (3) = 15008
      82 01 06 "ns/pol"                 # authorization_policies (16)
      88 01 01                          # status (17) = UNHEALTHY
      a2 01 02 "u1"                     # uid (20)
      b2 01 0f                          # services (22) map entry
        0a 04 "ns/h"                    #   key
        12 07 0a 05 08 50 10 90 3f      #   PortList{ports (1): {service_port 80, target_port 8080}}
      c2 01 03 0a 01 "r"                # locality (24) {region}
      da 01 02 08 03                    # capacity (27) UInt32Value{3}
  `.replace(/#.*$/gm, ''));

  it('encodes Address{workload} with the expected tags', () => {
    const hex = encodeHex(AddressSchema, {
      type: {
        case: 'workload',
        value: {
          uid: 'u1',
          name: 'p',
          namespace: 'ns',
          addresses: [new Uint8Array([10, 0, 0, 1])],
          tunnelProtocol: TunnelProtocol.HBONE,
          serviceAccount: 'sa',
          waypoint: {
            destination: { case: 'address', value: { address: new Uint8Array([10, 0, 0, 9]) } },
            hboneMtlsPort: 15008,
          },
          services: { 'ns/h': { ports: [{ servicePort: 80, targetPort: 8080 }] } },
          authorizationPolicies: ['ns/pol'],
          status: WorkloadStatus.UNHEALTHY,
          locality: { region: 'r' },
          capacity: 3,
        },
      },
    });
    expect(hex).toBe(workloadHex);
  });

  it('decodes hand-written Address{workload} bytes', () => {
    const address = decodeHex(AddressSchema, workloadHex);
    if (address.type.case !== 'workload') throw new Error(`expected a workload, got ${address.type.case}`);
    const w = address.type.value;
    expect(w.uid).toBe('u1');
    expect([...(w.addresses[0] ?? [])]).toEqual([10, 0, 0, 1]);
    expect(w.services['ns/h']?.ports[0]?.targetPort).toBe(8080);
    expect(w.waypoint?.hboneMtlsPort).toBe(15008);
    expect(w.capacity).toBe(3);
    expect(w.status).toBe(WorkloadStatus.UNHEALTHY);
  });

  it('encodes Address{service} with the expected tags', () => {
    const hex = encodeHex(AddressSchema, {
      type: {
        case: 'service',
        value: {
          name: 's',
          namespace: 'ns',
          hostname: 'h',
          addresses: [{ network: 'n', address: new Uint8Array([10, 96, 0, 1]) }],
          ports: [{ servicePort: 80, appProtocol: AppProtocol.HTTP2 }],
          waypoint: { destination: { case: 'hostname', value: { namespace: 'ns', hostname: 'w' } }, hboneMtlsPort: 15008 },
          loadBalancing: {
            routingPreference: [LoadBalancing_Scope.NETWORK, LoadBalancing_Scope.ZONE],
            mode: LoadBalancing_Mode.FAILOVER,
          },
          ingressUseWaypoint: true,
          visibility: Visibility.NAMESPACE,
        },
      },
    });
    expect(hex).toBe(wire(`
      12 35
        0a 01 "s"  12 02 "ns"  1a 01 "h"
        22 09 0a 01 "n" 12 04 0a 60 00 01
        2a 04 08 50 18 02
        3a 0c 0a 07 0a 02 "ns" 12 01 "w" 18 a0 75
        42 06 0a 02 06 02 10 02
        60 01
        70 01
    `));
  });
});

describe('istio.security wire format', () => {
  it('encodes Authorization groups(5)/rules(2)/not_principals(4)/presence(4) and match fields', () => {
    const hex = encodeHex(AuthorizationSchema, {
      name: 'deny-plain',
      namespace: 'istio-system',
      scope: Scope.GLOBAL,
      action: Action.DENY,
      groups: [
        { rules: [{ matches: [{ notPrincipals: [{ matchType: { case: 'presence', value: {} } }] }] }] },
        {
          rules: [{
            matches: [{
              principals: [{ matchType: { case: 'exact', value: 'x' } }],
              sourceIps: [{ address: new Uint8Array([10, 0, 0, 0]), length: 8 }],
              destinationPorts: [80, 443],
              serviceAccounts: [{ namespace: 'a', serviceAccount: 'b' }],
            }],
          }],
        },
      ],
      dryRun: true,
    });
    expect(hex).toBe(wire(`
      0a 0a "deny-plain"
      12 0c "istio-system"
      20 01
      2a 08 0a 06 12 04 22 02 22 00
      2a 20 0a 1e 12 1c
        1a 03 0a 01 "x"
        2a 08 0a 04 0a 00 00 00 10 08
        4a 03 50 bb 03
        5a 06 0a 01 "a" 12 01 "b"
      30 01
    `));
  });

  it('decodes hand-written not_principals presence', () => {
    const auth = decodeHex(AuthorizationSchema, wire('20 01 2a 08 0a 06 12 04 22 02 22 00'));
    expect(auth.action).toBe(Action.DENY);
    expect(auth.groups[0]?.rules[0]?.matches[0]?.notPrincipals[0]?.matchType.case).toBe('presence');
  });
});

describe('istio.workload.zds wire format', () => {
  it('WorkloadRequest.keep is field 5', () => {
    expect(encodeHex(WorkloadRequestSchema, { payload: { case: 'keep', value: { uid: 'abc' } } }))
      .toBe(wire('2a 05 0a 03 "abc"'));
  });

  it('DelWorkload.uid is field 2', () => {
    expect(encodeHex(WorkloadRequestSchema, { payload: { case: 'del', value: { uid: 'abc' } } }))
      .toBe(wire('12 05 12 03 "abc"'));
  });

  it('AddWorkload carries uid (1) and WorkloadInfo (2)', () => {
    const hex = encodeHex(WorkloadRequestSchema, {
      payload: {
        case: 'add',
        value: { uid: 'u', workloadInfo: { name: 'p', namespace: 'n', serviceAccount: 's' } },
      },
    });
    expect(hex).toBe(wire('0a 0e 0a 01 "u" 12 09 0a 01 "p" 12 01 "n" 1a 01 "s"'));
  });

  it('SnapshotSent, Ack and ZdsHello', () => {
    expect(encodeHex(WorkloadRequestSchema, { payload: { case: 'snapshotSent', value: {} } })).toBe('1a00');
    expect(encodeHex(WorkloadResponseSchema, { payload: { case: 'ack', value: {} } })).toBe('0a00');
    expect(encodeHex(WorkloadResponseSchema, { payload: { case: 'ack', value: { error: 'e' } } }))
      .toBe(wire('0a 03 0a 01 "e"'));
    expect(encodeHex(ZdsHelloSchema, { version: Version.V1 })).toBe('0801');
  });
});

describe('istio.v1.auth wire format', () => {
  it('IstioCertificateRequest csr(1) validity_duration(3) metadata(4 Struct)', () => {
    const hex = encodeHex(IstioCertificateRequestSchema, {
      csr: 'C',
      validityDuration: 86400n,
      metadata: { ImpersonatedIdentity: 'i' },
    });
    expect(hex).toBe(wire(`
      0a 01 "C"
      18 80 a3 05
      22 1d 0a 1b 0a 14 "ImpersonatedIdentity" 12 03 1a 01 "i"
    `));
  });

  it('IstioCertificateResponse cert_chain(1)', () => {
    expect(encodeHex(IstioCertificateResponseSchema, { certChain: ['a', 'b'] })).toBe(wire('0a 01 "a" 0a 01 "b"'));
  });
});

describe('envoy.service.discovery.v3 wire format', () => {
  it('DeltaDiscoveryRequest fields', () => {
    const hex = encodeHex(DeltaDiscoveryRequestSchema, {
      node: { id: 'i' },
      typeUrl: 't',
      resourceNamesSubscribe: ['*'],
      initialResourceVersions: { a: '1' },
      responseNonce: 'n',
      errorDetail: { code: 3, message: 'm' },
    });
    expect(hex).toBe(wire(`
      0a 03 0a 01 "i"
      12 01 "t"
      1a 01 "*"
      2a 06 0a 01 "a" 12 01 "1"
      32 01 "n"
      3a 05 08 03 12 01 "m"
    `));
  });

  it('DeltaDiscoveryResponse and Resource fields', () => {
    const hex = encodeHex(DeltaDiscoveryResponseSchema, {
      resources: [{ name: 'r', version: '1', aliases: ['a'], resource: { typeUrl: 't/x', value: new Uint8Array([1]) } }],
      typeUrl: 't',
      removedResources: ['d'],
      nonce: 'n',
    });
    expect(hex).toBe(wire(`
      12 13
        0a 01 "1"
        12 08 0a 03 "t/x" 12 01 01
        1a 01 "r"
        22 01 "a"
      22 01 "t"
      2a 01 "n"
      32 01 "d"
    `));
  });
});
