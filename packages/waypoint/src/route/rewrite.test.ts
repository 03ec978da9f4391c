import { describe, expect, it } from 'vitest';
import { create, waypoint, type MessageInitShape } from '@mesh/api';
import { redirectLocation, rewriteAuthority, rewriteTarget } from './rewrite';

const route = (init: MessageInitShape<typeof waypoint.RouteSchema>) => create(waypoint.RouteSchema, init);

describe('rewriteTarget', () => {
  it('uriPrefix replaces the matched prefix and keeps the query', () => {
    const r = route({ matches: [{ path: { kind: { case: 'prefix', value: '/api' } } }], rewrite: { path: { case: 'uriPrefix', value: '/v2' } } });
    expect(rewriteTarget(r, 0, '/api/users?x=1')).toBe('/v2/users?x=1');
  });

  it('ReplacePrefixMatch "/" does not double the slash', () => {
    const r = route({ matches: [{ path: { kind: { case: 'segmentPrefix', value: '/foo' } } }], rewrite: { path: { case: 'uriPrefix', value: '/' } } });
    expect(rewriteTarget(r, 0, '/foo/bar')).toBe('/bar');
    expect(rewriteTarget(r, 0, '/foo')).toBe('/');
  });

  it('exact matches are replaced whole; no path condition rewrites the implicit "/"', () => {
    const exact = route({ matches: [{ path: { kind: { case: 'exact', value: '/a' } } }], rewrite: { path: { case: 'uriPrefix', value: '/b' } } });
    expect(rewriteTarget(exact, 0, '/a?q')).toBe('/b?q');
    const any = route({ rewrite: { path: { case: 'uriPrefix', value: '/v2' } } });
    expect(rewriteTarget(any, -1, '/foo')).toBe('/v2foo');
  });

  it('fullPath and regex rewrites', () => {
    expect(rewriteTarget(route({ rewrite: { path: { case: 'fullPath', value: '/x' } } }), -1, '/a/b?k=v')).toBe('/x?k=v');
    const re = route({ rewrite: { regexMatch: '^/service/([^/]+)(/.*)$', regexSubstitution: '\\2/instance/\\1' } });
    expect(rewriteTarget(re, -1, '/service/foo/v1/api')).toBe('/v1/api/instance/foo');
  });

  it('authority rewrite and no-op without rewrite', () => {
    expect(rewriteAuthority(route({ rewrite: { authority: 'b.internal' } }), 'a')).toBe('b.internal');
    expect(rewriteAuthority(route({}), 'a')).toBe('a');
    expect(rewriteTarget(route({}), 0, '/p')).toBe('/p');
  });
});

describe('redirectLocation', () => {
  it('builds the Location from redirect fields, keeping unspecified parts and the query', () => {
    const r = route({ redirect: { uri: '/new', authority: 'example.com', port: 8443, scheme: 'https', responseCode: 308 } });
    expect(redirectLocation(r, { scheme: 'http', authority: 'svc:80', path: '/old?a=1' })).toEqual({ status: 308, location: 'https://example.com:8443/new?a=1' });
    expect(redirectLocation(route({ redirect: { uri: '/n' } }), { scheme: 'http', authority: 'svc:80', path: '/o' })).toEqual({ status: 301, location: 'http://svc:80/n' });
    expect(redirectLocation(route({}), { scheme: 'http', authority: 'a', path: '/' })).toBeUndefined();
  });

  it('uriPrefix replaces the matched prefix (Gateway API ReplacePrefixMatch), keeping the rest and the query', () => {
    const r = route({ matches: [{ path: { kind: { case: 'segmentPrefix', value: '/old' } } }], redirect: { uriPrefix: '/new', responseCode: 302 } });
    expect(redirectLocation(r, { scheme: 'http', authority: 'svc:80', path: '/old/a/b?x=1' })).toEqual({ status: 302, location: 'http://svc:80/new/a/b?x=1' });
    const slash = route({ matches: [{ path: { kind: { case: 'segmentPrefix', value: '/old' } } }], redirect: { uriPrefix: '/' } });
    expect(redirectLocation(slash, { scheme: 'http', authority: 'svc', path: '/old/a' })?.location).toBe('http://svc/a');
  });
});
