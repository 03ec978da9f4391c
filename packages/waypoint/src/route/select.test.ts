import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compileService } from './compile';
import { selectRoute } from './select';
import { routeRequest, serviceRoutes } from './testing';

const HOST = 'svc.ns.svc.cluster.local';

function svc(matches: object[], extraRoutes: object[] = []) {
  return compileService(serviceRoutes({ hostname: HOST, routes: [{ name: 'r0', matches }, ...extraRoutes] }));
}

function hit(s: ReturnType<typeof svc>, over: Parameters<typeof routeRequest>[0]) {
  return selectRoute(s, routeRequest(over))?.route.name;
}

describe('selectRoute uri matches', () => {
  it('exact matches only the whole path and ignores the query', () => {
    const s = svc([{ path: { kind: { case: 'exact', value: '/a' } } }]);
    expect(hit(s, { path: '/a' })).toBe('r0');
    expect(hit(s, { path: '/a?x=1' })).toBe('r0');
    expect(hit(s, { path: '/a/b' })).toBeUndefined();
  });

  it('prefix is a plain string prefix (Envoy prefix)', () => {
    const s = svc([{ path: { kind: { case: 'prefix', value: '/api' } } }]);
    expect(hit(s, { path: '/api/v1' })).toBe('r0');
    expect(hit(s, { path: '/apis' })).toBe('r0');
    expect(hit(s, { path: '/ap' })).toBeUndefined();
  });

  it('segment prefix matches whole segments only (Gateway API PathPrefix)', () => {
    const s = svc([{ path: { kind: { case: 'segmentPrefix', value: '/api' } } }]);
    expect(hit(s, { path: '/api' })).toBe('r0');
    expect(hit(s, { path: '/api/v1' })).toBe('r0');
    expect(hit(s, { path: '/apis' })).toBeUndefined();
  });

  it('regex is a full match', () => {
    const s = svc([{ path: { kind: { case: 'regex', value: '/v[0-9]+' } } }]);
    expect(hit(s, { path: '/v12' })).toBe('r0');
    expect(hit(s, { path: '/v12/x' })).toBeUndefined();
    expect(hit(s, { path: '/x/v12' })).toBeUndefined();
  });

  it('ignoreUriCase applies to exact, prefix and regex', () => {
    for (const kind of [
      { case: 'exact', value: '/Foo' },
      { case: 'prefix', value: '/FO' },
      { case: 'regex', value: '/f[o]+' },
    ] as const) {
      const s = svc([{ path: { kind }, ignoreUriCase: true }]);
      expect(hit(s, { path: '/fOO' })).toBe('r0');
      const strict = svc([{ path: { kind } }]);
      expect(hit(strict, { path: '/fOO' })).toBeUndefined();
    }
  });

  it('an invalid regex never matches and is reported', () => {
    const s = svc([{ path: { kind: { case: 'regex', value: '(' } } }]);
    expect(s.problems[0]).toMatch(/invalid regex/);
    expect(hit(s, { path: '(' })).toBeUndefined();
  });
});

describe('selectRoute header, query, method, authority and port matches', () => {
  it('header exact/prefix/regex/present and absent (invert)', () => {
    const s = svc([
      {
        headers: [
          { name: 'X-Exact', kind: { case: 'exact', value: 'a' } },
          { name: 'x-prefix', kind: { case: 'prefix', value: 'pre' } },
          { name: 'x-regex', kind: { case: 'regex', value: '[0-9]+' } },
          { name: 'x-present', kind: { case: 'present', value: true } },
          { name: 'x-absent', kind: { case: 'present', value: true }, invert: true },
        ],
      },
    ]);
    const ok = { 'x-exact': 'a', 'x-prefix': 'prefix', 'x-regex': '42', 'x-present': '' };
    expect(hit(s, { headers: ok })).toBe('r0');
    expect(hit(s, { headers: { ...ok, 'x-exact': 'b' } })).toBeUndefined();
    expect(hit(s, { headers: { ...ok, 'x-prefix': 'xpre' } })).toBeUndefined();
    expect(hit(s, { headers: { ...ok, 'x-regex': '42a' } })).toBeUndefined();
    expect(hit(s, { headers: { ...ok, 'x-present': undefined } })).toBeUndefined();
    expect(hit(s, { headers: { ...ok, 'x-absent': 'v' } })).toBeUndefined();
  });

  it('present: false requires the header to be absent', () => {
    const s = svc([{ headers: [{ name: 'x-gone', kind: { case: 'present', value: false } }] }]);
    expect(hit(s, { headers: {} })).toBe('r0');
    expect(hit(s, { headers: { 'x-gone': '1' } })).toBeUndefined();
  });

  it('withoutHeaders (inverted exact) matches absent or different values', () => {
    const s = svc([{ headers: [{ name: 'end-user', kind: { case: 'exact', value: 'jason' }, invert: true } ] }]);
    expect(hit(s, { headers: {} })).toBe('r0');
    expect(hit(s, { headers: { 'end-user': 'bob' } })).toBe('r0');
    expect(hit(s, { headers: { 'end-user': 'jason' } })).toBeUndefined();
  });

  it('repeated header values are joined with a comma', () => {
    const s = svc([{ headers: [{ name: 'x', kind: { case: 'exact', value: 'a,b' } }] }]);
    expect(hit(s, { headers: { x: ['a', 'b'] } })).toBe('r0');
  });

  it('query params exact/regex/present, from the path or a given URLSearchParams', () => {
    const s = svc([
      {
        queryParams: [
          { name: 'v', kind: { case: 'exact', value: '2' } },
          { name: 'id', kind: { case: 'regex', value: '[a-f]+' } },
          { name: 'debug', kind: { case: 'present', value: true } },
        ],
      },
    ]);
    expect(hit(s, { path: '/p?v=2&id=abc&debug' })).toBe('r0');
    expect(hit(s, { path: '/p?v=3&id=abc&debug' })).toBeUndefined();
    expect(hit(s, { path: '/p?v=2&id=abz&debug' })).toBeUndefined();
    expect(hit(s, { path: '/p?v=2&id=abc' })).toBeUndefined();
    expect(hit(s, { path: '/p', query: new URLSearchParams('v=2&id=f&debug=1') })).toBe('r0');
  });

  it('method, authority and port', () => {
    const s = svc([
      { method: { kind: { case: 'exact', value: 'POST' } }, authority: { kind: { case: 'prefix', value: 'svc.' } }, port: 8080 },
    ]);
    expect(hit(s, { method: 'POST', authority: 'svc.ns:8080', port: 8080 })).toBe('r0');
    expect(hit(s, { method: 'GET', authority: 'svc.ns:8080', port: 8080 })).toBeUndefined();
    expect(hit(s, { method: 'POST', authority: 'other', port: 8080 })).toBeUndefined();
    expect(hit(s, { method: 'POST', authority: 'svc.ns:8080', port: 80 })).toBeUndefined();
  });
});

describe('selectRoute ordering', () => {
  it('first matching route wins, matches are OR-ed, and the match index is reported', () => {
    const s = compileService(
      serviceRoutes({
        hostname: HOST,
        routes: [
          { name: 'api', matches: [{ path: { kind: { case: 'prefix', value: '/api' } } }, { path: { kind: { case: 'exact', value: '/v' } } }] },
          { name: 'api-v1', matches: [{ path: { kind: { case: 'prefix', value: '/api/v1' } } }] },
          { name: 'all' },
        ],
      }),
    );
    expect(selectRoute(s, routeRequest({ path: '/api/v1' }))).toMatchObject({ routeIndex: 0, matchIndex: 0 });
    expect(selectRoute(s, routeRequest({ path: '/v' }))).toMatchObject({ routeIndex: 0, matchIndex: 1 });
    expect(selectRoute(s, routeRequest({ path: '/other' }))).toMatchObject({ routeIndex: 2, matchIndex: -1 });
  });

  it('no match returns undefined (404)', () => {
    const s = svc([{ path: { kind: { case: 'exact', value: '/only' } } }]);
    expect(selectRoute(s, routeRequest({ path: '/x' }))).toBeUndefined();
  });

  it('is deterministic for arbitrary requests', () => {
    const s = compileService(
      serviceRoutes({
        hostname: HOST,
        routes: [
          { name: 'a', matches: [{ path: { kind: { case: 'regex', value: '/[a-c]+.*' } }, headers: [{ name: 'h', kind: { case: 'prefix', value: 'x' } }] }] },
          { name: 'b', matches: [{ queryParams: [{ name: 'q', kind: { case: 'present', value: true } }] }] },
          { name: 'c', matches: [{ method: { kind: { case: 'exact', value: 'PUT' } } }] },
        ],
      }),
    );
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.option(fc.string(), { nil: undefined }), fc.constantFrom('GET', 'PUT'), (p, q, h, method) => {
        const req = routeRequest({ path: `/${p}?${q}`, method, headers: { h } });
        expect(selectRoute(s, req)?.routeIndex).toBe(selectRoute(s, req)?.routeIndex);
      }),
    );
  });
});
