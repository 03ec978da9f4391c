import { describe, expect, it } from 'vitest';
import { fromBinary, toBinary, waypoint } from '@mesh/api';
import { compileWaypointConfig } from './compile';
import { BOOKINFO_WAYPOINT_YAML, loadFixture, parseInput, svc } from './testing';

const reviews = svc('reviews', 'bookinfo', '10.96.1.1', [9080]);
const ratings = svc('ratings', 'bookinfo', '10.96.1.2', [9080]);

describe('compileWaypointConfig: VirtualService + DestinationRule + policies (bookinfo fixture)', () => {
  const input = loadFixture('bookinfo.yaml', [reviews, ratings]);
  const { config, warnings } = compileWaypointConfig(input);
  const rev = config.services.find((s) => s.hostname === 'reviews.bookinfo.svc.cluster.local')!;
  const rat = config.services.find((s) => s.hostname === 'ratings.bookinfo.svc.cluster.local')!;

  it('parses the fixture cleanly', () => {
    expect(input.parseErrors.join("\n")).toBe("");
    expect(config.name).toBe('waypoint');
    expect(config.namespace).toBe('bookinfo');
  });

  it('carries the bound services with VIPs and ports, and a default route when nothing applies', () => {
    expect(rev.vips).toEqual(['10.96.1.1']);
    expect(rev.ports[0]).toMatchObject({ port: 9080, protocol: 'HTTP' });
    expect(rat.routes).toHaveLength(1);
    expect(rat.routes[0]).toMatchObject({ name: 'default', source: { kind: 'default' }, backends: [{ hostname: 'ratings.bookinfo.svc.cluster.local', weight: 100 }] });
  });

  it('merges VirtualServices for the host in age order and skips non-mesh ones', () => {
    expect(rev.routes.map((r) => r.name)).toEqual(['bookinfo/reviews/jason', 'bookinfo/reviews/1', 'bookinfo/reviews/2', 'bookinfo/reviews/3', 'bookinfo/reviews-extra/late']);
    expect(rev.routes.some((r) => r.source?.name === 'ingress-only')).toBe(false);
  });

  it('compiles matches: uri/ignoreUriCase, headers, query, method, authority, withoutHeaders', () => {
    const [m0, m1] = rev.routes[0]!.matches;
    expect(m0!.path?.kind).toEqual({ case: 'prefix', value: '/reviews' });
    expect(m0!.ignoreUriCase).toBe(true);
    expect(m0!.headers[0]).toMatchObject({ name: 'end-user', kind: { case: 'exact', value: 'jason' }, invert: false });
    expect(m1!.queryParams[0]).toMatchObject({ name: 'canary', kind: { case: 'exact', value: '1' } });
    expect(m1!.method?.kind).toEqual({ case: 'exact', value: 'GET' });
    const m2 = rev.routes[1]!.matches[0]!;
    expect(m2.headers[0]).toMatchObject({ name: 'x-debug', kind: { case: 'exact', value: '1' }, invert: true });
    expect(m2.authority?.kind).toEqual({ case: 'prefix', value: 'reviews' });
  });

  it('compiles actions: subsets with labels, timeout, retries, fault, header ops, mirror', () => {
    const r = rev.routes[0]!;
    expect(r.source).toMatchObject({ kind: 'VirtualService', namespace: 'bookinfo', name: 'reviews', index: 0 });
    expect(r.backends[0]).toMatchObject({ hostname: 'reviews.bookinfo.svc.cluster.local', port: 9080, subset: 'v2', subsetLabels: { version: 'v2' }, weight: 100 });
    expect(r.timeoutMs).toBe(1500);
    expect(r.retries).toMatchObject({ attempts: 3, perTryTimeoutMs: 500, retryOn: ['5xx', 'connect-failure', 'retriable-status-codes'], retriableStatusCodes: [503] });
    expect(r.fault?.delay).toMatchObject({ percent: 10, fixedDelayMs: 2000 });
    expect(r.fault?.abort).toMatchObject({ percent: 5, httpStatus: 418 });
    expect(r.requestHeaders?.set).toEqual({ 'x-route': 'jason' });
    expect(r.responseHeaders?.remove).toEqual(['server']);
    expect(r.mirrors[0]).toMatchObject({ percent: 20, destination: { hostname: 'reviews.bookinfo.svc.cluster.local', subset: 'v3', subsetLabels: { version: 'v3' } } });
  });

  it('compiles weighted splits, rewrite, redirect and direct responses; default retries when unset', () => {
    const split = rev.routes[1]!;
    expect(split.backends.map((b) => [b.subset, b.weight])).toEqual([['v1', 90], ['v3', 10]]);
    expect(split.backends[0]!.requestHeaders?.add).toEqual({ 'x-subset': 'v1' });
    expect(split.rewrite).toMatchObject({ path: { case: 'uriPrefix', value: '/v2' }, authority: 'reviews-internal' });
    expect(split.retries).toMatchObject({ attempts: 2, retriableStatusCodes: [503] });
    expect(rev.routes[2]!.redirect).toMatchObject({ uri: '/new', authority: 'reviews.example', responseCode: 301 });
    expect(rev.routes[3]!.directResponse).toMatchObject({ status: 404, body: 'nothing here' });
    expect(rev.routes[3]!.cors?.allowOrigins.map((m) => m.kind)).toEqual([{ case: 'exact', value: 'https://example.com' }]);
    expect(warnings.some((w) => w.message.includes('corsPolicy'))).toBe(false);
  });

  it('expands DestinationRule policies per subset and port with Istio merging and defaults', () => {
    const P = waypoint.LoadBalancer_Policy;
    const find = (subset: string, port: number) => config.trafficPolicies.find((t) => t.subset === subset && t.port === port);
    const top = find('', 0)!;
    expect(top.loadBalancer?.policy).toBe(P.LEAST_REQUEST);
    expect(top.connectionPool).toMatchObject({ maxConnections: 100, maxPendingRequests: 10, maxRequestsPerConnection: 5, maxRetries: 3 });
    expect(top.outlierDetection).toMatchObject({ consecutive5xx: 7, intervalMs: 5000, baseEjectionTimeMs: 30000, maxEjectionPercent: 10 });
    expect(find('', 9080)!.loadBalancer).toMatchObject({ policy: P.CONSISTENT_HASH, consistentHash: { key: { case: 'header', value: 'x-user' } } });
    expect(find('v2', 0)!.loadBalancer).toMatchObject({ policy: P.CONSISTENT_HASH, consistentHash: { key: { case: 'cookie', value: 'session' }, cookieTtlMs: 60000 } });
    expect(find('v2', 0)!.connectionPool?.maxConnections).toBe(100);
    expect(find('v1', 0)!.source).toMatchObject({ kind: 'DestinationRule', name: 'reviews', index: 0 });
  });

  it('places AuthorizationPolicies by targetRefs and skips selector and CUSTOM policies', () => {
    const A = waypoint.AuthorizationPolicy_Action;
    expect(config.policies.map((p) => [p.name, p.action])).toEqual([
      ['bookinfo/waypoint-deny-admin', A.DENY],
      ['istio-system/mesh-wide-audit', A.AUDIT],
    ]);
    expect(rev.policies.map((p) => p.name)).toEqual(['bookinfo/reviews-viewer']);
    expect(rev.policies[0]!.rules[0]).toMatchObject({ from: [{ principals: ['cluster.local/ns/bookinfo/sa/productpage'] }], to: [{ methods: ['GET'] }], when: [{ key: 'request.auth.claims[groups]', values: ['viewers'] }] });
    expect(rat.policies).toEqual([]);
    expect(JSON.stringify(config)).not.toContain('l4-selector-only');
    expect(warnings).toContainEqual(expect.objectContaining({ resource: 'AuthorizationPolicy bookinfo/ext-authz', message: expect.stringContaining('CUSTOM') }));
  });

  it('attaches RequestAuthentication JWT rules to the targeted service', () => {
    expect(config.jwtRules).toEqual([]);
    expect(rev.jwtRules[0]).toMatchObject({
      issuer: 'https://issuer.example',
      audiences: ['reviews'],
      jwksUri: 'https://issuer.example/jwks.json',
      fromHeaders: [{ name: 'x-jwt', prefix: 'Bearer ' }],
      fromParams: ['token'],
      forwardOriginalToken: true,
      outputPayloadToHeader: 'x-jwt-payload',
      source: { kind: 'RequestAuthentication', name: 'jwt', index: 0 },
    });
    // Istio's default token locations are written out when a rule names none.
    expect(rev.jwtRules[1]).toMatchObject({ issuer: 'https://other.example', jwks: '{"keys":[]}', fromHeaders: [{ name: 'authorization', prefix: 'Bearer ' }], fromParams: ['access_token'] });
  });

  it('is deterministic and survives a binary round trip', () => {
    const again = compileWaypointConfig(input).config;
    const bytes = toBinary(waypoint.WaypointConfigSchema, config);
    expect(toBinary(waypoint.WaypointConfigSchema, again)).toEqual(bytes);
    expect(fromBinary(waypoint.WaypointConfigSchema, bytes).services).toHaveLength(2);
  });
});

describe('compileWaypointConfig: wildcard hosts', () => {
  it('a wildcard VirtualService host applies to the bound service and a wildcard DestinationRule resolves subsets', () => {
    const input = parseInput(`${BOOKINFO_WAYPOINT_YAML}
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: all, namespace: bookinfo}
spec:
  hosts: ["*.bookinfo.svc.cluster.local"]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: all, namespace: bookinfo}
spec:
  host: "*.bookinfo.svc.cluster.local"
  subsets:
  - name: v1
    labels: {version: v1}
`, [reviews]);
    expect(input.parseErrors).toEqual([]);
    const { config, warnings } = compileWaypointConfig(input);
    expect(config.services[0]!.routes[0]!.backends[0]).toMatchObject({ subset: 'v1', subsetLabels: { version: 'v1' } });
    expect(warnings).toEqual([]);
  });
});

describe('compileWaypointConfig: direct responses', () => {
  it('decodes a base64 bytes body', () => {
    const input = loadFixture('bookinfo.yaml', [reviews]);
    const vs = structuredClone(input.virtualServices![0]!);
    vs.spec.http = [{ directResponse: { status: 503, body: { bytes: Buffer.from('{"down":true}').toString('base64') } } }];
    const route = compileWaypointConfig({ ...input, virtualServices: [vs] }).config.services[0]!.routes[0]!;
    expect(route.directResponse).toMatchObject({ status: 503, body: '{"down":true}' });
  });
});

describe('compileWaypointConfig: regex validation', () => {
  it('reports regexes the waypoint cannot compile', () => {
    const input = loadFixture('bookinfo.yaml', [reviews]);
    const vs = structuredClone(input.virtualServices![0]!);
    vs.spec.http = [{ match: [{ uri: { regex: '/(unclosed' } }], route: [{ destination: { host: 'reviews' } }] }];
    const { warnings } = compileWaypointConfig({ ...input, virtualServices: [vs] });
    expect(warnings).toContainEqual(expect.objectContaining({ code: 'INVALID_VALUE', resource: 'VirtualService bookinfo/reviews', message: expect.stringContaining('/(unclosed') }));
  });
});
