import { AddressSchema, create, security, workload } from '@mesh/api';
import { isMeshError } from '@mesh/core';
import { describe, expect, it } from 'vitest';
import { MeshState } from './store';
import { identityOf } from './identity';
import { canonicalIp, formatIp, parseIp } from './ip';
import { makePolicy, makeService, makeWorkload, svcUpdate, wlUpdate } from './test-fixtures';

describe('ip helpers', () => {
  it.each([
    ['10.0.0.1', '10.0.0.1'],
    ['::ffff:10.0.0.1', '10.0.0.1'],
    ['2001:db8:0:0:0:0:0:1', '2001:db8::1'],
    ['::1', '::1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['[2001:db8::2]', '2001:db8::2'],
    ['1:0:0:1:0:0:0:1', '1:0:0:1::1'],
  ])('canonicalIp(%s) = %s', (input, want) => {
    expect(canonicalIp(input)).toBe(want);
  });

  it.each(['10.0.0', '256.1.1.1', '1::2::3', 'foo', '1:2:3:4:5:6:7:8:9'])('rejects %s', (input) => {
    expect(parseIp(input)).toBeUndefined();
  });

  it('round-trips v6 bytes', () => {
    const b = parseIp('2001:db8:1:2:3:4:5:6');
    expect(b && formatIp(b)).toBe('2001:db8:1:2:3:4:5:6');
  });
});

describe('MeshState addresses', () => {
  it('indexes workloads by uid, network address and node; services by key and VIP', () => {
    const s = new MeshState();
    const a = makeWorkload({ name: 'a', ips: ['10.0.0.1'], node: 'n1', services: { 'default/svc.default.svc.cluster.local': [[80, 8080]] } });
    const svc = makeService({ name: 'svc', hostname: 'svc.default.svc.cluster.local', vips: ['10.96.0.1'], ports: [[80, 8080]] });
    s.applyAddresses([wlUpdate(a), svcUpdate(svc)], []);
    expect(s.workloadByUid(a.uid)).toBe(a);
    expect(s.workloadByAddress('', '10.0.0.1')).toBe(a);
    expect(s.workloadByAddress('', '::ffff:10.0.0.1')).toBe(a);
    expect(s.workloadByAddress('other-net', '10.0.0.1')).toBeUndefined();
    expect(s.workloadsOnNode('n1')).toEqual([a]);
    expect(s.serviceByVip('', '10.96.0.1')).toBe(svc);
    expect(s.serviceByKey('default/svc.default.svc.cluster.local')).toBe(svc);
    expect(s.findAddress('', '10.96.0.1')?.kind).toBe('service');
    expect(s.findAddress('', '10.0.0.1')?.kind).toBe('workload');
    expect([...s.endpointsOf('default/svc.default.svc.cluster.local').keys()]).toEqual([a.uid]);
    expect(s.servicesOfWorkload(a)).toEqual([svc]);
  });

  it('keeps endpoints that arrive before their service (staged)', () => {
    const s = new MeshState();
    const a = makeWorkload({ name: 'a', ips: ['10.0.0.1'], services: { 'default/late.example': [[80, 80]] } });
    s.applyAddresses([wlUpdate(a)], []);
    expect(s.endpointsOf('default/late.example').size).toBe(1);
    s.applyAddresses([svcUpdate(makeService({ name: 'late', hostname: 'late.example', vips: ['10.96.0.9'] }))], []);
    expect(s.endpointsOf('default/late.example').get(a.uid)?.ports.get(80)).toBe(80);
  });

  it('re-indexes a workload update: old IP, node and endpoints go away', () => {
    const s = new MeshState();
    const v1 = makeWorkload({ name: 'a', ips: ['10.0.0.1'], node: 'n1', services: { 'default/x': [[80, 80]] } });
    const v2 = makeWorkload({ name: 'a', ips: ['10.0.0.2'], node: 'n2', services: { 'default/y': [[81, 81]] } });
    s.applyAddresses([wlUpdate(v1)], []);
    s.applyAddresses([wlUpdate(v2)], []);
    expect(s.workloadByAddress('', '10.0.0.1')).toBeUndefined();
    expect(s.workloadByAddress('', '10.0.0.2')).toBe(v2);
    expect(s.workloadsOnNode('n1')).toEqual([]);
    expect(s.endpointsOf('default/x').size).toBe(0);
    expect(s.endpointsOf('default/y').size).toBe(1);
  });

  it('removes by name: a uid removes a workload, ns/hostname removes a service', () => {
    const s = new MeshState();
    const a = makeWorkload({ name: 'a', ips: ['10.0.0.1'], services: { 'default/svc.example': [[80, 80]] } });
    const svc = makeService({ name: 'svc', hostname: 'svc.example', vips: ['10.96.0.1'] });
    s.applyAddresses([wlUpdate(a), svcUpdate(svc)], []);
    s.applyAddresses([], ['default/svc.example']);
    expect(s.serviceByVip('', '10.96.0.1')).toBeUndefined();
    expect(s.workloadByUid(a.uid)).toBe(a);
    // Endpoints belong to the workload, not the service: they stay staged.
    expect(s.endpointsOf('default/svc.example').size).toBe(1);
    s.applyAddresses([], [a.uid]);
    expect(s.workloadByUid(a.uid)).toBeUndefined();
    expect(s.workloadByAddress('', '10.0.0.1')).toBeUndefined();
    expect(s.endpointsOf('default/svc.example').size).toBe(0);
    s.applyAddresses([], ['never-seen']); // unknown names are ignored
  });

  it('accepts a hostname-only workload (a DNS ServiceEntry endpoint): indexed by hostname and as an endpoint, never by IP', () => {
    const s = new MeshState();
    const se = makeService({ name: 'api', namespace: 'egress', hostname: 'api.example.com', vips: ['240.240.0.1'], ports: [[443, 443]] });
    const ep = makeWorkload({
      uid: 'Kubernetes/networking.istio.io/ServiceEntry/egress/api/api.example.com',
      name: 'api',
      namespace: 'egress',
      hostname: 'api.example.com',
      hbone: false,
      services: { 'egress/api.example.com': [[443, 443]] },
    });
    s.applyAddresses([wlUpdate(ep)], []); // throws STATE_REJECTED_RESOURCES on a NACK
    expect(s.workloadByUid(ep.uid)).toBe(ep);
    expect(s.workloadIps(ep)).toEqual([]);
    expect(s.findHostname('egress', 'api.example.com')).toEqual({ kind: 'workload', workload: ep });
    s.applyAddresses([svcUpdate(se)], []);
    expect(s.findAddress('', '240.240.0.1')).toEqual({ kind: 'service', service: se });
    expect([...s.endpointsOf('egress/api.example.com').keys()]).toEqual([ep.uid]);
    s.applyAddresses([], [ep.uid]);
    expect(s.workloadByUid(ep.uid)).toBeUndefined();
    expect(s.endpointsOf('egress/api.example.com').size).toBe(0);
  });

  it('rejects a workload with a bad address length but applies the rest of the batch', () => {
    const s = new MeshState();
    const bad = makeWorkload({ name: 'bad' });
    bad.addresses = [new Uint8Array([10, 0, 0])];
    const good = makeWorkload({ name: 'good', ips: ['10.0.0.5'] });
    let caught: unknown;
    try {
      s.applyAddresses([wlUpdate(bad), wlUpdate(good)], []);
    } catch (err) {
      caught = err;
    }
    expect(isMeshError(caught, 'STATE_REJECTED_RESOURCES')).toBe(true);
    expect(String((caught as Error).message)).toContain('3 address bytes');
    expect(s.workloadByUid(good.uid)).toBe(good);
    expect(s.workloadByUid(bad.uid)).toBeUndefined();
  });

  it.each([
    ['empty address', create(AddressSchema, {})],
    ['service with 5-byte VIP', create(AddressSchema, { type: { case: 'service', value: { ...makeService({ name: 's' }), addresses: [create(workload.NetworkAddressSchema, { network: '', address: new Uint8Array(5) })] } } })],
    ['workload bad services key', create(AddressSchema, { type: { case: 'workload', value: makeWorkload({ name: 'w', services: { nokey: [] } }) } })],
    ['service unspecified routing preference', create(AddressSchema, { type: { case: 'service', value: { ...makeService({ name: 's' }), loadBalancing: create(workload.LoadBalancingSchema, { routingPreference: [0] }) } } })],
  ])('rejects %s', (_label, resource) => {
    const s = new MeshState();
    expect(() => s.applyAddresses([{ name: 'x', resource }], [])).toThrow(/rejected 1 Address/);
  });

  it('handles 10k workloads incrementally', () => {
    const s = new MeshState();
    const updates = [];
    for (let i = 0; i < 10_000; i++) {
      updates.push(wlUpdate(makeWorkload({ name: `p${i}`, ips: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`], services: { 'default/big': [[80, 8080]] } })));
    }
    s.applyAddresses(updates, []);
    expect(s.endpointsOf('default/big').size).toBe(10_000);
    const t0 = performance.now();
    for (let i = 0; i < 1000; i++) {
      s.applyAddresses([wlUpdate(makeWorkload({ name: `p${i}`, ips: [`10.0.${(i >> 8) & 255}.${i & 255}`], services: { 'default/big': [[80, 9090]] } }))], []);
    }
    // 1000 single-workload updates against 10k workloads: per-update cost must not depend on the total.
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(s.endpointsOf('default/big').get(makeWorkload({ name: 'p1' }).uid)?.ports.get(80)).toBe(9090);
  });
});

describe('MeshState authorizations', () => {
  it('indexes NAMESPACE under its namespace, GLOBAL under "", WORKLOAD_SELECTOR by key only', () => {
    const s = new MeshState();
    const ns = makePolicy({ name: 'ns', namespace: 'a', scope: security.Scope.NAMESPACE });
    const g = makePolicy({ name: 'g', namespace: 'istio-system', scope: security.Scope.GLOBAL });
    const sel = makePolicy({ name: 'sel', namespace: 'a', scope: security.Scope.WORKLOAD_SELECTOR });
    s.applyAuthorizations([ns, g, sel].map((p) => ({ name: `${p.namespace}/${p.name}`, resource: p })), []);
    expect([...s.policies.keysForNamespace('a')]).toEqual(['a/ns']);
    expect([...s.policies.keysForNamespace('')]).toEqual(['istio-system/g']);
    const w = makeWorkload({ name: 'w', namespace: 'a', policies: ['a/sel', 'a/missing'] });
    expect(s.applicablePolicies(w).map((p) => p.name)).toEqual(['ns', 'g', 'sel']);
    s.applyAuthorizations([], ['a/ns', 'istio-system/g']);
    expect(s.policies.keysForNamespace('a').size).toBe(0);
    expect(s.applicablePolicies(w).map((p) => p.name)).toEqual(['sel']);
  });

  it('rejects an unknown action', () => {
    const s = new MeshState();
    const p = makePolicy({ name: 'p' });
    p.action = 7 as security.Action;
    expect(() => s.applyAuthorizations([{ name: 'default/p', resource: p }], [])).toThrow(/unknown action 7/);
  });
});

describe('identityOf', () => {
  it('defaults trust domain and service account', () => {
    expect(identityOf(makeWorkload({ name: 'a', namespace: 'ns1' }))).toBe('spiffe://cluster.local/ns/ns1/sa/default');
    expect(identityOf(makeWorkload({ name: 'a', namespace: 'ns1', sa: 'sa1', trustDomain: 'td' }))).toBe('spiffe://td/ns/ns1/sa/sa1');
  });
});
