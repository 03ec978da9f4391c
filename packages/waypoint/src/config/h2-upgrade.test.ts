import { describe, expect, it } from 'vitest';
import { create, waypoint } from '@mesh/api';
import { chooseHttpVersion } from './h2-upgrade';
import { compileWaypointState } from './state';

const H = waypoint.H2UpgradePolicy;

describe('chooseHttpVersion (Istio shouldH2Upgrade)', () => {
  it('follows the mesh default on declared HTTP ports when the DestinationRule says DEFAULT', () => {
    expect(chooseHttpVersion('http1', H.DEFAULT, H.UPGRADE)).toBe('http2');
    expect(chooseHttpVersion('http1', undefined, H.DO_NOT_UPGRADE)).toBe('http1');
    expect(chooseHttpVersion('http1', undefined, H.DEFAULT)).toBe('http1');
  });

  it('lets the DestinationRule override the mesh default either way', () => {
    expect(chooseHttpVersion('http1', H.UPGRADE, H.DO_NOT_UPGRADE)).toBe('http2');
    expect(chooseHttpVersion('http1', H.DO_NOT_UPGRADE, H.UPGRADE)).toBe('http1');
  });

  it('upgrades an undeclared port only on a DestinationRule UPGRADE, never on the mesh default', () => {
    expect(chooseHttpVersion(undefined, H.DEFAULT, H.UPGRADE)).toBe('http1');
    expect(chooseHttpVersion(undefined, H.UPGRADE, H.DO_NOT_UPGRADE)).toBe('http2');
  });

  it('keeps HTTP/2 on HTTP2/GRPC ports whatever the policy', () => {
    expect(chooseHttpVersion('http2', H.DO_NOT_UPGRADE, H.DO_NOT_UPGRADE)).toBe('http2');
  });
});

describe('WaypointState.upstreamHttpVersion', () => {
  const host = 'a.ns.svc.cluster.local';
  const state = compileWaypointState(create(waypoint.WaypointConfigSchema, {
    meshH2UpgradePolicy: H.UPGRADE,
    trafficPolicies: [
      { host, connectionPool: { h2UpgradePolicy: H.DEFAULT } },
      { host, subset: 'old', connectionPool: { h2UpgradePolicy: H.DO_NOT_UPGRADE } },
      { host, port: 8080, connectionPool: { h2UpgradePolicy: H.DO_NOT_UPGRADE } },
    ],
  }));

  it('uses the most specific traffic policy, then the mesh default', () => {
    expect(state.upstreamHttpVersion(host, '', 80, 'http1')).toBe('http2');
    expect(state.upstreamHttpVersion(host, 'old', 80, 'http1')).toBe('http1');
    expect(state.upstreamHttpVersion(host, '', 8080, 'http1')).toBe('http1');
    expect(state.upstreamHttpVersion('b.ns.svc.cluster.local', '', 80, 'http1')).toBe('http2');
  });
});
