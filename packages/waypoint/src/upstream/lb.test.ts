import { create, waypoint } from '@mesh/api';
import { describe, expect, it } from 'vitest';
import { affinityFor, EndpointPicker, endpointKey, hashKeyFor, lbPolicyOf } from './lb';
import type { Endpoint, UpstreamWorkload } from './mesh-state';

function ep(i: number): Endpoint {
  return { workload: { uid: `w${i}` } as UpstreamWorkload, ip: `10.0.0.${i}`, port: 9080 };
}

/** Deterministic PRNG (mulberry32). */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const eps = [ep(1), ep(2), ep(3), ep(4)];

function counts(picker: EndpointPicker, n: number, input: Parameters<EndpointPicker['pick']>[1]): Map<string, number> {
  const c = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const k = endpointKey(picker.pick(eps, input)!);
    c.set(k, (c.get(k) ?? 0) + 1);
  }
  return c;
}

describe('EndpointPicker', () => {
  it('maps the DestinationRule policy (unset = ROUND_ROBIN)', () => {
    expect(lbPolicyOf(undefined)).toBe('round-robin');
    expect(lbPolicyOf(create(waypoint.LoadBalancerSchema, { policy: waypoint.LoadBalancer_Policy.LEAST_REQUEST }))).toBe('least-request');
  });

  it('ROUND_ROBIN cycles through every endpoint evenly', () => {
    const c = counts(new EndpointPicker('round-robin'), 400, { rand: Math.random, active: () => 0 });
    expect([...c.values()]).toEqual([100, 100, 100, 100]);
  });

  it('RANDOM spreads roughly evenly with a seeded rand', () => {
    const c = counts(new EndpointPicker('random'), 4000, { rand: seeded(7), active: () => 0 });
    expect(c.size).toBe(4);
    for (const v of c.values()) expect(Math.abs(v - 1000)).toBeLessThan(150);
  });

  it('LEAST_REQUEST (P2C) avoids the busy endpoint', () => {
    const busy = endpointKey(ep(1));
    const c = counts(new EndpointPicker('least-request'), 4000, { rand: seeded(3), active: (e) => (endpointKey(e) === busy ? 10 : 0) });
    // The busy endpoint only wins when both choices land on it: ~1/16 of picks.
    expect(c.get(busy) ?? 0).toBeLessThan(400);
    expect(c.get(endpointKey(ep(2)))!).toBeGreaterThan(1000);
  });

  it('CONSISTENT_HASH is sticky per key, independent of endpoint order, and spreads keys', () => {
    const picker = new EndpointPicker('consistent-hash');
    const input = (k: string): Parameters<EndpointPicker['pick']>[1] => ({ rand: Math.random, active: () => 0, hashKey: k });
    const owners = new Set<string>();
    for (let u = 0; u < 200; u++) {
      const a = picker.pick(eps, input(`user-${u}`))!;
      const b = picker.pick([...eps].reverse(), input(`user-${u}`))!;
      expect(endpointKey(b)).toBe(endpointKey(a));
      owners.add(endpointKey(a));
    }
    expect(owners.size).toBe(4);
    // Removing one endpoint only moves the keys it owned.
    let moved = 0;
    for (let u = 0; u < 200; u++) {
      const before = endpointKey(picker.pick(eps, input(`user-${u}`))!);
      const after = endpointKey(picker.pick(eps.slice(0, 3), input(`user-${u}`))!);
      if (before !== after) {
        moved++;
        expect(before).toBe(endpointKey(ep(4)));
      }
    }
    expect(moved).toBeGreaterThan(0);
  });

  it('derives the hash key from a header, cookie, query parameter or source IP', () => {
    const lb = (key: waypoint.LoadBalancer_ConsistentHash['key']): waypoint.LoadBalancer =>
      create(waypoint.LoadBalancerSchema, { policy: waypoint.LoadBalancer_Policy.CONSISTENT_HASH, consistentHash: { key } });
    const req = { headers: { 'x-user': 'u1', cookie: 'a=1; session=s9' }, path: '/p?tenant=t1', sourceIp: '10.1.1.1' };
    expect(hashKeyFor(lb({ case: 'header', value: 'X-User' }), req)).toBe('u1');
    expect(hashKeyFor(lb({ case: 'cookie', value: 'session' }), req)).toBe('s9');
    expect(hashKeyFor(lb({ case: 'queryParam', value: 'tenant' }), req)).toBe('t1');
    expect(hashKeyFor(lb({ case: 'sourceIp', value: true }), req)).toBe('10.1.1.1');
    expect(hashKeyFor(lb({ case: 'header', value: 'x-missing' }), req)).toBeUndefined();
  });

  it('generates a session affinity cookie only when the cookie is absent', () => {
    const lb = create(waypoint.LoadBalancerSchema, { policy: waypoint.LoadBalancer_Policy.CONSISTENT_HASH, consistentHash: { key: { case: 'cookie', value: 'sid' } } });
    const gen = affinityFor(lb, { headers: {}, path: '/' }, () => 'v1');
    expect(gen).toEqual({ hashKey: 'v1', setCookie: 'sid="v1"; Path=/; HttpOnly' });
    expect(affinityFor(lb, { headers: { cookie: 'sid="v1"' }, path: '/' }, () => 'other')).toEqual({ hashKey: 'v1' });
  });
});
