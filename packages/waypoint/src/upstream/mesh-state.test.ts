import { describe, expect, it } from 'vitest';
import { AddressSchema, create, workload, WorkloadSchema } from '@mesh/api';
import { UpstreamState } from './mesh-state';

const HOST = 'reviews.default.svc.cluster.local';

function addrOfWorkload(uid: string, ip: number[], target: number, healthy = true): { name: string; resource: ReturnType<typeof create<typeof AddressSchema>> } {
  const w = create(WorkloadSchema, {
    uid, name: uid, namespace: 'default', serviceAccount: `sa-${uid}`, addresses: [new Uint8Array(ip)], status: healthy ? 0 : 1,
    services: { [`default/${HOST}`]: { ports: [{ servicePort: 80, targetPort: target }] } },
  });
  return { name: uid, resource: create(AddressSchema, { type: { case: 'workload', value: w } }) };
}

function addrOfService(): { name: string; resource: ReturnType<typeof create<typeof AddressSchema>> } {
  const s = create(workload.ServiceSchema, {
    name: 'reviews', namespace: 'default', hostname: HOST,
    addresses: [{ network: '', address: new Uint8Array([10, 96, 0, 10]) }], ports: [{ servicePort: 80, targetPort: 9080 }],
  });
  return { name: `default/${HOST}`, resource: create(AddressSchema, { type: { case: 'service', value: s } }) };
}

describe('UpstreamState', () => {
  it('indexes services by VIP and lists healthy endpoints with their target ports and identities', () => {
    const st = new UpstreamState();
    st.applyAddresses([addrOfService(), addrOfWorkload('a', [10, 0, 0, 1], 9080), addrOfWorkload('b', [10, 0, 0, 2], 0), addrOfWorkload('c', [10, 0, 0, 3], 9080, false)], []);
    expect(st.serviceByVip('10.96.0.10', 80)?.hostname).toBe(HOST);
    expect(st.serviceByVip('10.96.0.10', 81)).toBeUndefined();
    const eps = st.endpoints(HOST, 80).map((e) => `${e.ip}:${e.port} ${e.workload.identity}`).sort();
    expect(eps).toEqual([
      '10.0.0.1:9080 spiffe://cluster.local/ns/default/sa/sa-a',
      // No endpoint-specific target port: the service's target port applies.
      '10.0.0.2:9080 spiffe://cluster.local/ns/default/sa/sa-b',
    ]);
    expect(st.workloadByIp('::ffff:10.0.0.1')?.uid).toBe('a');
  });

  it('round-robins and forgets removed resources', () => {
    const st = new UpstreamState();
    st.applyAddresses([addrOfService(), addrOfWorkload('a', [10, 0, 0, 1], 9080), addrOfWorkload('b', [10, 0, 0, 2], 9080)], []);
    const picks = [0, 1, 2, 3].map(() => st.pickEndpoint(HOST, 80)?.workload.uid);
    expect(new Set(picks)).toEqual(new Set(['a', 'b']));
    expect(picks[0]).not.toBe(picks[1]);
    st.applyAddresses([], ['a', `default/${HOST}`]);
    expect(st.endpoints(HOST, 80)).toEqual([]);
    expect(st.workloadByIp('10.0.0.1')).toBeUndefined();
  });

  it('answers endpoints from a cache that every state change invalidates (health, new pods, subsets)', () => {
    const st = new UpstreamState();
    st.applyAddresses([addrOfService(), addrOfWorkload('a', [10, 0, 0, 1], 9080)], []);
    const v1 = { version: 'v1' };
    expect(st.endpoints(HOST, 80).map((e) => e.workload.uid)).toEqual(['a']);
    expect(st.endpoints(HOST, 80, v1)).toEqual([]);
    st.applyAddresses([addrOfWorkload('b', [10, 0, 0, 2], 9080)], []);
    expect(st.endpoints(HOST, 80).map((e) => e.workload.uid).sort()).toEqual(['a', 'b']);
    st.applyAddresses([addrOfWorkload('a', [10, 0, 0, 1], 9080, false)], []);
    expect(st.endpoints(HOST, 80).map((e) => e.workload.uid)).toEqual(['b']);
  });
});
