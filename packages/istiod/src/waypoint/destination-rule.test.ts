import { describe, expect, it } from 'vitest';
import { waypoint } from '@mesh/api';
import { compileWaypointConfig } from './compile';
import { loadFixture, svc } from './testing';

const H = waypoint.H2UpgradePolicy;
const cart = svc('cart', 'shop', '10.96.2.1', [8080, 8081, 8082]);
const catalog = svc('catalog', 'shop', '10.96.2.2', [8080]);

describe('DestinationRule h2UpgradePolicy (h2-upgrade fixture)', () => {
  const input = loadFixture('h2-upgrade.yaml', [cart, catalog]);
  const { config, warnings } = compileWaypointConfig(input);
  const policy = (host: string, subset: string, port: number) => config.trafficPolicies.find((t) => t.host === `${host}.shop.svc.cluster.local` && t.subset === subset && t.port === port);

  it('parses cleanly', () => {
    expect(input.parseErrors).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('carries the top-level policy and the subset override', () => {
    expect(policy('cart', '', 0)?.connectionPool).toMatchObject({ h2UpgradePolicy: H.UPGRADE, maxRequests: 1000 });
    expect(policy('cart', 'legacy', 0)?.connectionPool?.h2UpgradePolicy).toBe(H.DO_NOT_UPGRADE);
    expect(policy('catalog', '', 0)?.connectionPool?.h2UpgradePolicy).toBe(H.DO_NOT_UPGRADE);
  });

  it('port-level settings replace the top-level connection pool wholesale, as Istio', () => {
    expect(policy('cart', '', 8082)?.connectionPool?.h2UpgradePolicy).toBe(H.DO_NOT_UPGRADE);
    const p8081 = policy('cart', '', 8081);
    expect(p8081?.loadBalancer?.policy).toBe(waypoint.LoadBalancer_Policy.ROUND_ROBIN);
    expect(p8081?.connectionPool).toBeUndefined();
    // A subset without its own pool inherits the port's (none), not the top-level one; its own pool still applies.
    expect(policy('cart', 'plain', 8081)?.connectionPool).toBeUndefined();
    expect(policy('cart', 'plain', 0)?.connectionPool?.h2UpgradePolicy).toBe(H.UPGRADE);
    expect(policy('cart', 'legacy', 8081)?.connectionPool?.h2UpgradePolicy).toBe(H.DO_NOT_UPGRADE);
  });

  it('useClientProtocol never upgrades, whatever h2UpgradePolicy says', () => {
    expect(policy('cart', 'passthrough', 0)?.connectionPool?.h2UpgradePolicy).toBe(H.DO_NOT_UPGRADE);
  });

  it('carries the mesh default: DO_NOT_UPGRADE unless meshConfig says UPGRADE', () => {
    expect(config.meshH2UpgradePolicy).toBe(H.DO_NOT_UPGRADE);
    expect(compileWaypointConfig({ ...input, meshH2UpgradePolicy: 'UPGRADE' }).config.meshH2UpgradePolicy).toBe(H.UPGRADE);
  });

  it('leaves DEFAULT when the DestinationRule does not say, so the mesh default applies', () => {
    const dr = structuredClone(input.destinationRules![1]!);
    dr.spec.trafficPolicy = { connectionPool: { http: { maxRetries: 2 } } };
    const { config: c } = compileWaypointConfig({ ...input, destinationRules: [dr] });
    expect(c.trafficPolicies[0]?.connectionPool).toMatchObject({ h2UpgradePolicy: H.DEFAULT, maxRetries: 2 });
  });
});

describe('DestinationRule fields the waypoint does not apply', () => {
  it('are reported once, by name', () => {
    const input = loadFixture('h2-upgrade.yaml', [cart, catalog]);
    const dr = structuredClone(input.destinationRules![1]!);
    dr.spec.trafficPolicy = { connectionPool: { tcp: { tcpKeepalive: { time: '10s' } }, http: { maxConcurrentStreams: 10 } }, outlierDetection: { consecutiveLocalOriginFailures: 3 } };
    const { warnings } = compileWaypointConfig({ ...input, destinationRules: [dr] });
    expect(warnings).toEqual([
      { code: 'UNSUPPORTED_FIELD', resource: 'DestinationRule shop/catalog', message: 'connectionPool.tcp.tcpKeepalive, connectionPool.http.maxConcurrentStreams, outlierDetection.consecutiveLocalOriginFailures are not applied by the waypoint' },
    ]);
  });
});
