import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { create, DeltaDiscoveryResponseSchema, equals, fromBinary, toBinary, type MessageInitShape } from '@mesh/api';
import { decodeDeltaResponse } from './delta-response';

type Init = MessageInitShape<typeof DeltaDiscoveryResponseSchema>;
const encode = (init: Init): Uint8Array => toBinary(DeltaDiscoveryResponseSchema, create(DeltaDiscoveryResponseSchema, init));

const sample: Init = {
  systemVersionInfo: '2026-11-22T07:00:00Z/3',
  typeUrl: 'type.googleapis.com/istio.workload.Address',
  nonce: 'ab12-7',
  resources: [
    { name: 'Kubernetes//Pod/ns-0/p-ü', version: 'v1', resource: { typeUrl: 'type.googleapis.com/istio.workload.Address', value: new Uint8Array([1, 2, 3]) } },
    { name: 'ns-0/svc.ns-0.svc.cluster.local', version: 'v2', resource: { typeUrl: 'type.googleapis.com/istio.workload.Address', value: new Uint8Array() } },
  ],
  removedResources: ['gone-1', 'gone-2'],
};

describe('decodeDeltaResponse', () => {
  it('reads what istiod sends exactly as the generated decoder does', () => {
    const bytes = encode(sample);
    const fast = decodeDeltaResponse(Buffer.from(bytes));
    expect(equals(DeltaDiscoveryResponseSchema, fast, fromBinary(DeltaDiscoveryResponseSchema, bytes))).toBe(true);
    expect(fast.resources[0]?.name).toBe('Kubernetes//Pod/ns-0/p-ü');
    expect([...(fast.resources[0]?.resource?.value ?? [])]).toEqual([1, 2, 3]);
  });

  it('returns Any values as views into the received buffer, not copies', () => {
    const buf = Buffer.from(encode(sample));
    const value = decodeDeltaResponse(buf).resources[0]?.resource?.value;
    expect(value?.buffer).toBe(buf.buffer);
  });

  it('falls back to the generated decoder for fields istiod does not send (aliases, ttl, control_plane)', () => {
    const init: Init = { ...sample, controlPlane: { identifier: 'istiod-1' }, resources: [{ name: 'a', version: '1', aliases: ['b'], ttl: { seconds: 5n } }] };
    const fast = decodeDeltaResponse(Buffer.from(encode(init)));
    expect(fast.controlPlane?.identifier).toBe('istiod-1');
    expect(fast.resources[0]?.aliases).toEqual(['b']);
    expect(fast.resources[0]?.ttl?.seconds).toBe(5n);
  });

  it('rejects truncated input the way the generated decoder does', () => {
    const bytes = encode(sample);
    const cut = bytes.subarray(0, bytes.length - 3);
    expect(() => fromBinary(DeltaDiscoveryResponseSchema, cut)).toThrow();
    expect(() => decodeDeltaResponse(Buffer.from(cut))).toThrow();
  });

  it('agrees with the generated decoder on arbitrary responses', () => {
    const resource = fc.record({
      name: fc.string(),
      version: fc.string(),
      resource: fc.option(fc.record({ typeUrl: fc.string(), value: fc.uint8Array({ maxLength: 40 }) }), { nil: undefined }),
    });
    const response = fc.record({
      systemVersionInfo: fc.string(),
      typeUrl: fc.string(),
      nonce: fc.string(),
      resources: fc.array(resource, { maxLength: 5 }),
      removedResources: fc.array(fc.string(), { maxLength: 3 }),
    });
    fc.assert(fc.property(response, (init) => {
      const bytes = encode(init);
      return equals(DeltaDiscoveryResponseSchema, decodeDeltaResponse(Buffer.from(bytes)), fromBinary(DeltaDiscoveryResponseSchema, bytes));
    }), { numRuns: 300 });
  });
});
