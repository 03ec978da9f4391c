import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compileWaypointConfig } from './compile';
import { loadFixture, svc } from './testing';

const cart = svc('cart', 'shop', '10.96.2.1', [8080]);
const cartGrpc = svc('cart-grpc', 'shop', '10.96.2.2', [9090]);

describe('compileWaypointConfig: GAMMA HTTPRoute/GRPCRoute (shop fixture)', () => {
  const input = loadFixture('gamma.yaml', [cart, cartGrpc]);
  const { config, warnings } = compileWaypointConfig(input);
  const c = config.services.find((s) => s.name === 'cart')!;
  const g = config.services.find((s) => s.name === 'cart-grpc')!;

  it('parses the fixture cleanly', () => {
    expect(input.parseErrors.join('\n')).toBe('');
  });

  it('HTTPRoutes take precedence over a VirtualService for the same Service, with a warning', () => {
    expect(c.routes.every((r) => r.source?.kind === 'HTTPRoute')).toBe(true);
    expect(warnings).toContainEqual(expect.objectContaining({ code: 'SHADOWED', resource: 'VirtualService shop/cart-vs' }));
  });

  it('orders routes by Gateway API precedence: exact, longest prefix, method/headers, then age', () => {
    // Exact paths first, the longest first (Istio sortHTTPRoutes: /elsewhere, /healthz, /old); at equal
    // prefix length a method match wins.
    expect(c.routes.map((r) => r.name)).toEqual(['shop/cart-a/2', 'shop/cart-a/0.0', 'shop/cart-a/1', 'shop/cart-a/0.1', 'shop/cart-b/0:8080', 'shop/cart-b/1:8080']);
  });

  it('translates matches: segment prefix, headers, method, parentRef port', () => {
    const r = c.routes.find((x) => x.name === 'shop/cart-a/0.1')!;
    expect(r.matches[0]).toMatchObject({ path: { kind: { case: 'segmentPrefix', value: '/api' } }, method: { kind: { case: 'exact', value: 'POST' } }, headers: [{ name: 'x-canary', kind: { case: 'exact', value: 'true' } }], port: 0 });
    const b = c.routes.find((x) => x.name === 'shop/cart-b/0:8080')!;
    expect(b.matches[0]).toMatchObject({ path: { kind: { case: 'segmentPrefix', value: '/api' } }, port: 8080 });
    expect(c.routes.find((x) => x.name === 'shop/cart-b/1:8080')!.matches[0]!.path?.kind).toEqual({ case: 'prefix', value: '/' });
  });

  it('translates backends, weights, backend filters, timeouts and retries', () => {
    const b = c.routes.find((x) => x.name === 'shop/cart-b/0:8080')!;
    expect(b.backends.map((x) => [x.hostname, x.port, x.weight])).toEqual([
      ['cart-v2.shop.svc.cluster.local', 8080, 1],
      ['cart.shop.svc.cluster.local', 8080, 3],
    ]);
    expect(b.backends[1]!.requestHeaders?.set).toEqual({ 'x-backend': 'v1' });
    expect(b.timeoutMs).toBe(2000);
    // A retry stanza also retries connection errors (Gateway API SHOULD, Istio's conversion).
    expect(b.retries).toMatchObject({ attempts: 4, perTryTimeoutMs: 500, retryOn: ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', 'retriable-status-codes'], retriableStatusCodes: [502, 503] });
    expect(b.source).toMatchObject({ kind: 'HTTPRoute', namespace: 'shop', name: 'cart-b', index: 0 });
  });

  it('translates URLRewrite, RequestMirror, RequestRedirect (302 default) and CORS', () => {
    const a = c.routes.find((x) => x.name === 'shop/cart-a/0.0')!;
    expect(a.rewrite).toMatchObject({ authority: 'cart.internal', path: { case: 'uriPrefix', value: '/v2' } });
    expect(a.mirrors[0]).toMatchObject({ percent: 25, destination: { hostname: 'cart-shadow.shop.svc.cluster.local', port: 8080 } });
    const redirect = c.routes.find((x) => x.name === 'shop/cart-a/1')!;
    expect(redirect.redirect).toMatchObject({ uri: '/new', responseCode: 302 });
    expect(redirect.directResponse).toBeUndefined();
    // An empty CORS filter allows no origin; the CRD's maxAge default still applies.
    expect(a.cors).toMatchObject({ allowOrigins: [], maxAge: '5', allowCredentials: false });
    expect(warnings.some((w) => w.message.includes('CORS'))).toBe(false);
  });

  it('refuses cross-namespace backends without ReferenceGrant (500) and consumer routes', () => {
    const r = c.routes.find((x) => x.name === 'shop/cart-a/2')!;
    expect(r.backends).toEqual([]);
    expect(r.directResponse?.status).toBe(500);
    expect(warnings).toContainEqual(expect.objectContaining({ code: 'NOT_PERMITTED', resource: 'HTTPRoute shop/cart-a' }));
    expect(warnings).toContainEqual(expect.objectContaining({ code: 'NOT_PERMITTED', resource: 'HTTPRoute frontend/consumer' }));
    expect(c.routes.some((x) => x.source?.name === 'consumer')).toBe(false);
  });

  it('translates GRPCRoute method matches to paths', () => {
    const paths = g.routes.map((r) => r.matches[0]!.path?.kind);
    expect(paths).toContainEqual({ case: 'exact', value: '/shop.Cart/Get' });
    expect(paths).toContainEqual({ case: 'prefix', value: '/shop.Cart/' });
    expect(paths).toContainEqual({ case: 'regex', value: '/[^/]+/Ping' });
    expect(paths).toContainEqual({ case: 'regex', value: '/shop\\..*/[^/]+' });
    expect(g.routes[0]!.matches[0]!.path?.kind).toEqual({ case: 'exact', value: '/shop.Cart/Get' });
    expect(g.routes[0]!.backends[0]).toMatchObject({ hostname: 'cart-grpc.shop.svc.cluster.local', port: 9090, weight: 1 });
  });
});

describe('compileWaypointConfig: HTTPRoute timeouts, retries and precedence as Istio converts them', () => {
  const base = loadFixture('gamma.yaml', [cart]);
  const routeB = base.httpRoutes!.find((r) => r.metadata.name === 'cart-b')!;
  const compileRule = (rule: object) => {
    const r = structuredClone(routeB);
    r.spec.rules = [rule as never];
    return compileWaypointConfig({ ...base, httpRoutes: [r], grpcRoutes: [] }).config.services[0]!.routes[0]!;
  };
  const backendRefs = [{ name: 'cart', port: 8080 }];

  it('backendRequest without a retry stanza is the route timeout, and the default retry policy stays', () => {
    const r = compileRule({ backendRefs, timeouts: { request: '5s', backendRequest: '1s' } });
    expect(r.timeoutMs).toBe(1000);
    expect(r.retries).toMatchObject({ attempts: 2, perTryTimeoutMs: 0, retriableStatusCodes: [503] });
  });

  it('a retry stanza without codes retries connection errors only; attempts 0 disables retries', () => {
    expect(compileRule({ backendRefs, retry: { attempts: 3 } }).retries).toMatchObject({ attempts: 3, retryOn: ['connect-failure', 'refused-stream', 'unavailable', 'cancelled'], retriableStatusCodes: [] });
    expect(compileRule({ backendRefs, retry: { attempts: 0, codes: [503] } }).retries).toMatchObject({ attempts: 0, retryOn: [] });
  });

  it('attaches to a ServiceEntry parent, and a Service parent of the same name does not', () => {
    const se = { ...cart, kind: 'ServiceEntry' as const, hostname: 'cart.example.com' };
    const r = structuredClone(routeB);
    r.spec.parentRefs = [{ group: 'networking.istio.io', kind: 'ServiceEntry', name: 'cart' }];
    r.spec.rules = [{ matches: [{ path: { type: 'Exact', value: '/se' } }], backendRefs }] as never;
    const routes = compileWaypointConfig({ ...base, services: [se], httpRoutes: [r], grpcRoutes: [], virtualServices: [] }).config.services[0]!.routes;
    expect(routes.map((x) => x.matches[0]?.path?.kind)).toEqual([{ case: 'exact', value: '/se' }]);
    const asService = compileWaypointConfig({ ...base, services: [se], httpRoutes: [routeB], grpcRoutes: [], virtualServices: [] }).config.services[0]!.routes;
    expect(asService.map((x) => x.name)).toEqual(['default']);
  });

  it('a ReplacePrefixMatch redirect replaces the matched prefix', () => {
    const r = compileRule({ matches: [{ path: { type: 'PathPrefix', value: '/old/' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/new' } } }] });
    expect(r.redirect).toMatchObject({ uri: '', uriPrefix: '/new', responseCode: 302 });
    expect(r.matches[0]!.path?.kind).toEqual({ case: 'segmentPrefix', value: '/old' });
  });

  it('orders prefix matches before regex matches', () => {
    const r = structuredClone(routeB);
    r.spec.rules = [
      { matches: [{ path: { type: 'RegularExpression', value: '/api/.*' } }], backendRefs },
      { matches: [{ path: { type: 'PathPrefix', value: '/a' } }], backendRefs },
    ] as never;
    const routes = compileWaypointConfig({ ...base, httpRoutes: [r], grpcRoutes: [] }).config.services[0]!.routes;
    expect(routes.map((x) => x.matches[0]!.path?.kind.case)).toEqual(['segmentPrefix', 'regex']);
  });
});

describe('compileWaypointConfig robustness', () => {
  it('never throws on arbitrary (malformed) resources', () => {
    const base = loadFixture('gamma.yaml', [cart]);
    const junk = fc.anything({ maxDepth: 3 });
    fc.assert(
      fc.property(fc.array(junk, { maxLength: 3 }), fc.array(junk, { maxLength: 3 }), fc.array(junk, { maxLength: 3 }), fc.array(junk, { maxLength: 2 }), (vs, rt, ap, other) => {
        const wrap = (kind: string, spec: unknown) => ({ apiVersion: 'x', kind, metadata: { name: 'j', namespace: 'shop' }, spec });
        const res = compileWaypointConfig({
          ...base,
          virtualServices: vs.map((s) => wrap('VirtualService', s)) as never,
          httpRoutes: rt.map((s) => wrap('HTTPRoute', s)) as never,
          authorizationPolicies: ap.map((s) => wrap('AuthorizationPolicy', s)) as never,
          destinationRules: other.map((s) => wrap('DestinationRule', s)) as never,
          grpcRoutes: other.map((s) => wrap('GRPCRoute', s)) as never,
          requestAuthentications: other.map((s) => wrap('RequestAuthentication', s)) as never,
        });
        expect(res.config.services).toHaveLength(1);
      }),
      { numRuns: 200 },
    );
  });
});
