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
    // Exact paths first (route age, then rule order); at equal prefix length a method match wins.
    expect(c.routes.map((r) => r.name)).toEqual(['shop/cart-a/0.0', 'shop/cart-a/1', 'shop/cart-a/2', 'shop/cart-a/0.1', 'shop/cart-b/0:8080', 'shop/cart-b/1:8080']);
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
    expect(b.retries).toMatchObject({ attempts: 4, perTryTimeoutMs: 500, retryOn: ['retriable-status-codes'], retriableStatusCodes: [502, 503] });
    expect(b.source).toMatchObject({ kind: 'HTTPRoute', namespace: 'shop', name: 'cart-b', index: 0 });
  });

  it('translates URLRewrite, RequestMirror and RequestRedirect (302 default); warns on CORS', () => {
    const a = c.routes.find((x) => x.name === 'shop/cart-a/0.0')!;
    expect(a.rewrite).toMatchObject({ authority: 'cart.internal', path: { case: 'uriPrefix', value: '/v2' } });
    expect(a.mirrors[0]).toMatchObject({ percent: 25, destination: { hostname: 'cart-shadow.shop.svc.cluster.local', port: 8080 } });
    const redirect = c.routes.find((x) => x.name === 'shop/cart-a/1')!;
    expect(redirect.redirect).toMatchObject({ uri: '/new', responseCode: 302 });
    expect(redirect.directResponse).toBeUndefined();
    expect(warnings).toContainEqual(expect.objectContaining({ resource: 'HTTPRoute shop/cart-a', message: expect.stringContaining('CORS') }));
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
