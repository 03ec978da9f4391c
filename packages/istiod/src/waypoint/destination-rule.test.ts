import { describe, expect, it } from 'vitest';
import { waypoint } from '@mesh/api';
import { compileWaypointConfig } from './compile';
import { BOOKINFO_WAYPOINT_YAML, loadFixture, parseInput, svc } from './testing';
import type { BoundService } from './types';

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

describe('DestinationRule trafficPolicy.tls (TLS origination to endpoints outside the mesh)', () => {
  const M = waypoint.UpstreamTls_Mode;
  const api: BoundService = { kind: 'ServiceEntry', name: 'api', namespace: 'egress', hostname: 'api.example.com', vips: ['240.240.0.1'], ports: [{ port: 80, protocol: 'HTTP' }, { port: 8443, protocol: 'HTTP' }] };
  const compile = (drYaml: string) => {
    const input = parseInput(`${BOOKINFO_WAYPOINT_YAML}\n${drYaml}`, [api]);
    expect(input.parseErrors).toEqual([]);
    return compileWaypointConfig(input);
  };
  const DR = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: api, namespace: egress}
spec:
  host: api.example.com
`;

  it('compiles a top-level SIMPLE policy with SNI, SANs, CA file and skip-verify', () => {
    const { config, warnings } = compile(`${DR}  trafficPolicy:
    tls: {mode: SIMPLE, sni: api.example.com, subjectAltNames: [api.example.com], caCertificates: /etc/certs/ca.pem}
`);
    expect(warnings).toEqual([]);
    expect(config.trafficPolicies).toHaveLength(1);
    expect(config.trafficPolicies[0]).toMatchObject({ host: 'api.example.com', subset: '', port: 0 });
    expect(config.trafficPolicies[0]!.tls).toMatchObject({
      mode: M.SIMPLE, sni: 'api.example.com', subjectAltNames: ['api.example.com'], caCertificates: '/etc/certs/ca.pem', insecureSkipVerify: false,
    });
  });

  it('merges port-level and subset-level tls as the other DestinationRule fields', () => {
    const { config, warnings } = compile(`${DR}  trafficPolicy:
    tls: {mode: SIMPLE}
    portLevelSettings:
    - port: {number: 80}
      loadBalancer: {simple: RANDOM}
  subsets:
  - name: mtls
    labels: {version: v2}
    trafficPolicy:
      tls: {mode: MUTUAL, clientCertificate: /c/cert.pem, privateKey: /c/key.pem, insecureSkipVerify: true}
  - name: plain
    labels: {version: v1}
    trafficPolicy:
      tls: {mode: DISABLE}
  - name: inherit
    labels: {version: v3}
    trafficPolicy:
      loadBalancer: {simple: ROUND_ROBIN}
`);
    expect(warnings).toEqual([]);
    const at = (subset: string, port: number) => config.trafficPolicies.find((t) => t.subset === subset && t.port === port);
    expect(at('', 0)?.tls?.mode).toBe(M.SIMPLE);
    // A port-level entry replaces tls with the rest: port 80 says nothing, so plaintext.
    expect(at('', 80)?.tls).toBeUndefined();
    expect(at('mtls', 0)?.tls).toMatchObject({ mode: M.MUTUAL, clientCertificate: '/c/cert.pem', privateKey: '/c/key.pem', insecureSkipVerify: true });
    expect(at('plain', 0)?.tls?.mode).toBe(M.DISABLE);
    expect(at('inherit', 0)?.tls?.mode).toBe(M.SIMPLE);
    expect(at('inherit', 80)?.tls).toBeUndefined();
  });

  it('keeps a tls-only DestinationRule (no other field) and ISTIO_MUTUAL', () => {
    const { config, warnings } = compile(`${DR}  trafficPolicy:
    tls: {mode: ISTIO_MUTUAL}
`);
    expect(warnings).toEqual([]);
    expect(config.trafficPolicies.map((t) => t.tls?.mode)).toEqual([M.ISTIO_MUTUAL]);
  });

  it('warns, naming the rule and the field, for MUTUAL without a certificate and for credentialName', () => {
    const { config, warnings } = compile(`${DR}  trafficPolicy:
    tls: {mode: MUTUAL, caCertificates: /ca.pem}
    portLevelSettings:
    - port: {number: 8443}
      tls: {mode: SIMPLE, credentialName: api-ca}
  subsets:
  - name: v2
    labels: {version: v2}
    trafficPolicy:
      tls: {mode: MUTUAL, clientCertificate: /c.pem}
`);
    expect(warnings).toEqual([
      { code: 'INVALID_VALUE', resource: 'DestinationRule egress/api', message: 'trafficPolicy.tls: mode MUTUAL needs clientCertificate and privateKey; connections to this destination fail until it is fixed' },
      { code: 'UNSUPPORTED_FIELD', resource: 'DestinationRule egress/api', message: expect.stringContaining('trafficPolicy.portLevelSettings[port 8443].tls.credentialName is not applied by the waypoint') },
      { code: 'INVALID_VALUE', resource: 'DestinationRule egress/api', message: 'subsets[v2].trafficPolicy.tls: mode MUTUAL needs privateKey; connections to this destination fail until it is fixed' },
    ]);
    // Compiled as written: the waypoint refuses the connection instead of falling back to plaintext.
    expect(config.trafficPolicies.find((t) => t.subset === '' && t.port === 0)?.tls?.mode).toBe(M.MUTUAL);
    expect(config.trafficPolicies.find((t) => t.subset === '' && t.port === 8443)?.tls?.mode).toBe(M.SIMPLE);
  });
});
