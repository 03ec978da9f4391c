import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { create, DeltaDiscoveryRequestSchema, equals, fromBinary, toBinary, type MessageInitShape } from '@mesh/api';
import { decodeDeltaRequest } from './request-decoder';

type Init = MessageInitShape<typeof DeltaDiscoveryRequestSchema>;
const bytes = (init: Init): Buffer => Buffer.from(toBinary(DeltaDiscoveryRequestSchema, create(DeltaDiscoveryRequestSchema, init)));
const same = (init: Init): boolean => {
  const b = bytes(init);
  return equals(DeltaDiscoveryRequestSchema, decodeDeltaRequest(b), fromBinary(DeltaDiscoveryRequestSchema, b));
};

describe('decodeDeltaRequest', () => {
  it('reads ACKs and subscription changes as the generated decoder does', () => {
    expect(same({ typeUrl: 'type.googleapis.com/istio.workload.Address', responseNonce: 'ab-1' })).toBe(true);
    expect(same({ typeUrl: 't', resourceNamesSubscribe: ['a', 'ü'], resourceNamesUnsubscribe: ['*'] })).toBe(true);
  });

  it('hands NACKs, the node and initial versions to the generated decoder', () => {
    const nack = decodeDeltaRequest(bytes({ typeUrl: 't', responseNonce: 'n', errorDetail: { code: 3, message: 'bad' } }));
    expect(nack.errorDetail?.message).toBe('bad');
    const first = decodeDeltaRequest(bytes({ node: { id: 'ztunnel~1' }, typeUrl: 't', initialResourceVersions: { a: '1' } }));
    expect(first.node?.id).toBe('ztunnel~1');
    expect(first.initialResourceVersions).toEqual({ a: '1' });
  });

  it('agrees with the generated decoder on arbitrary requests', () => {
    const req = fc.record({
      typeUrl: fc.string(),
      responseNonce: fc.string(),
      resourceNamesSubscribe: fc.array(fc.string(), { maxLength: 3 }),
      resourceNamesUnsubscribe: fc.array(fc.string(), { maxLength: 3 }),
      initialResourceVersions: fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }),
    });
    fc.assert(fc.property(req, same), { numRuns: 300 });
  });
});
