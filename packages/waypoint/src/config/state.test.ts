import { describe, expect, it } from 'vitest';
import { create, waypoint } from '@mesh/api';
import { authorizeHttp } from '../policy/authorize';
import { selectRoute } from '../route/select';
import { routeRequest } from '../route/testing';
import { compileWaypointState } from './state';

const config = create(waypoint.WaypointConfigSchema, {
  name: 'waypoint',
  namespace: 'ns',
  policies: [{ name: 'ns/gw-deny-post', action: waypoint.AuthorizationPolicy_Action.DENY, rules: [{ to: [{ methods: ['POST'] }] }] }],
  services: [
    {
      hostname: 'a.ns.svc.cluster.local',
      vips: ['10.96.0.10', 'fd00::10'],
      ports: [{ port: 80 }],
      routes: [{ name: 'default', backends: [{ hostname: 'a.ns.svc.cluster.local', port: 80, weight: 1 }] }],
      policies: [{ name: 'ns/allow-get', action: waypoint.AuthorizationPolicy_Action.ALLOW, rules: [{ to: [{ methods: ['GET', 'POST'] }] }] }],
    },
  ],
  trafficPolicies: [
    { host: 'a.ns.svc.cluster.local', loadBalancer: { policy: waypoint.LoadBalancer_Policy.RANDOM } },
    { host: 'a.ns.svc.cluster.local', subset: 'v1', loadBalancer: { policy: waypoint.LoadBalancer_Policy.LEAST_REQUEST } },
    { host: '*.ns.svc.cluster.local', loadBalancer: { policy: waypoint.LoadBalancer_Policy.ROUND_ROBIN } },
  ],
});

describe('compileWaypointState', () => {
  const state = compileWaypointState(config);

  it('indexes services by hostname and VIP:port (IPv6 bracketed)', () => {
    expect(state.byHost.get('a.ns.svc.cluster.local')).toBeDefined();
    expect(state.byVipPort.get('10.96.0.10:80')).toBe(state.byHost.get('a.ns.svc.cluster.local'));
    expect(state.byVipPort.get('[fd00::10]:80')).toBeDefined();
    expect(state.byVipPort.get('10.96.0.10:81')).toBeUndefined();
  });

  it('applies waypoint-wide and service policies together', () => {
    const e = state.byHost.get('a.ns.svc.cluster.local')!;
    const base = { method: 'GET', path: '/', authority: 'a', headers: {}, port: 80 };
    expect(authorizeHttp(e.policies, base).allow).toBe(true);
    expect(authorizeHttp(e.policies, { ...base, method: 'POST' }).decidedBy?.policy).toBe('ns/gw-deny-post');
    expect(authorizeHttp(e.policies, { ...base, method: 'PUT' }).allow).toBe(false);
    expect(selectRoute(e.routes, routeRequest())?.route.name).toBe('default');
  });

  it('finds the most specific traffic policy', () => {
    expect(state.trafficPolicy('a.ns.svc.cluster.local', 'v1', 80)?.loadBalancer?.policy).toBe(waypoint.LoadBalancer_Policy.LEAST_REQUEST);
    expect(state.trafficPolicy('a.ns.svc.cluster.local', 'v2', 80)?.loadBalancer?.policy).toBe(waypoint.LoadBalancer_Policy.RANDOM);
    expect(state.trafficPolicy('b', '', 80)).toBeUndefined();
    expect(state.trafficPolicy('c.ns.svc.cluster.local', '', 80)?.loadBalancer?.policy).toBe(waypoint.LoadBalancer_Policy.ROUND_ROBIN);
  });
});
