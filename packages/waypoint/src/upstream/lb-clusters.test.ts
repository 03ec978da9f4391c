import { create, waypoint } from '@mesh/api';
import { describe, expect, it } from 'vitest';
import { UpstreamClusters } from './lb-clusters';
import type { Endpoint, UpstreamWorkload } from './mesh-state';

const ep = (i: number): Endpoint => ({ workload: { uid: `w${i}` } as UpstreamWorkload, ip: `10.0.0.${i}`, port: 80 });

describe('UpstreamClusters', () => {
  it('keys clusters by host/subset/port and rebuilds one when its policy changes', () => {
    let policy: waypoint.TrafficPolicy | undefined = create(waypoint.TrafficPolicySchema, { host: 'h', loadBalancer: { policy: waypoint.LoadBalancer_Policy.RANDOM } });
    const clusters = new UpstreamClusters(() => policy);
    const a = clusters.get('h', '', 80);
    expect(clusters.get('h', '', 80)).toBe(a);
    expect(a.name).toBe('outbound|80||h');
    expect(a.picker.policy).toBe('random');
    policy = undefined;
    const b = clusters.get('h', '', 80);
    expect(b).not.toBe(a);
    expect(b.picker.policy).toBe('round-robin');
  });

  it('limits concurrent retries with maxRetries', () => {
    const clusters = new UpstreamClusters(() => create(waypoint.TrafficPolicySchema, { host: 'h', connectionPool: { maxRetries: 2 } }));
    const c = clusters.get('h', '', 80);
    const r1 = c.startRetry();
    const r2 = c.startRetry();
    expect(c.startRetry()).toBeUndefined();
    r1!();
    r1!();
    expect(c.activeRetries).toBe(1);
    expect(c.startRetry()).toBeDefined();
    r2!();
  });

  it('skips ejected endpoints and counts in-flight tries per endpoint', () => {
    const c = new UpstreamClusters(() => create(waypoint.TrafficPolicySchema, {
      host: 'h', outlierDetection: { consecutive5xx: 1, baseEjectionTimeMs: 60_000, intervalMs: 1000, maxEjectionPercent: 100 },
    })).get('h', '', 80);
    const eps = [ep(1), ep(2)];
    c.pick(eps, { rand: Math.random });
    c.report(ep(1), 'error-5xx');
    for (let i = 0; i < 5; i++) expect(c.pick(eps, { rand: Math.random })!.ip).toBe('10.0.0.2');
    c.report(ep(2), 'gateway-error');
    expect(c.pick(eps, { rand: Math.random })).toBeUndefined();
  });
});
