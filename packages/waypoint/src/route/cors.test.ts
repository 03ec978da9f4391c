import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { create, waypoint, type MessageInitShape } from '@mesh/api';
import { addCorsResponseHeaders, evaluateCors } from './cors';
import { compileService } from './compile';
import { serviceRoutes } from './testing';

type CorsInit = MessageInitShape<typeof waypoint.CorsPolicySchema>;

const exact = (value: string) => ({ kind: { case: 'exact' as const, value } });
const APP = 'https://app.example.com';

function route(cors: CorsInit | undefined): waypoint.Route {
  return create(waypoint.RouteSchema, { name: 'r', ...(cors === undefined ? {} : { cors }) });
}

const FULL: CorsInit = {
  allowOrigins: [exact(APP), { kind: { case: 'prefix', value: 'https://preview-' } }, { kind: { case: 'regex', value: 'https://[a-z]+\\.example\\.org' } }],
  allowMethods: 'GET,POST',
  allowHeaders: 'authorization,content-type',
  exposeHeaders: 'x-total',
  maxAge: '600',
  allowCredentials: true,
};

const preflight = (origin: string, extra: Record<string, string> = {}) => ({ origin, 'access-control-request-method': 'PUT', ...extra });

describe('evaluateCors (Envoy cors_filter decodeHeaders/encodeHeaders)', () => {
  it('answers a matching preflight with the Allow-* headers plus the encoder pass (Expose-Headers)', () => {
    expect(evaluateCors(route(FULL), 'OPTIONS', preflight(APP))).toEqual({
      kind: 'preflight',
      headers: {
        'access-control-allow-origin': APP,
        'access-control-allow-credentials': 'true',
        'access-control-allow-methods': 'GET,POST',
        'access-control-allow-headers': 'authorization,content-type',
        'access-control-max-age': '600',
        'access-control-expose-headers': 'x-total',
      },
    });
  });

  it('matches prefix and full-match regex origins', () => {
    expect(evaluateCors(route(FULL), 'GET', { origin: 'https://preview-42.example.com' })?.kind).toBe('actual');
    expect(evaluateCors(route(FULL), 'GET', { origin: 'https://shop.example.org' })?.kind).toBe('actual');
    expect(evaluateCors(route(FULL), 'GET', { origin: 'https://shop.example.org.evil' })).toBeUndefined();
  });

  it('gives an actual request from an allowed origin Allow-Origin, Allow-Credentials and Expose-Headers', () => {
    expect(evaluateCors(route(FULL), 'POST', { origin: APP })).toEqual({
      kind: 'actual',
      headers: { 'access-control-allow-origin': APP, 'access-control-allow-credentials': 'true', 'access-control-expose-headers': 'x-total' },
    });
  });

  it('treats OPTIONS without Access-Control-Request-Method as an actual request', () => {
    expect(evaluateCors(route(FULL), 'OPTIONS', { origin: APP })?.kind).toBe('actual');
    expect(evaluateCors(route(FULL), 'OPTIONS', { origin: 'https://evil.example' })).toBeUndefined();
  });

  it('leaves requests without a policy, without Origin or with an empty Origin alone', () => {
    expect(evaluateCors(route(undefined), 'OPTIONS', preflight(APP))).toBeUndefined();
    expect(evaluateCors(route(FULL), 'OPTIONS', { 'access-control-request-method': 'GET' })).toBeUndefined();
    expect(evaluateCors(route(FULL), 'GET', { origin: '' })).toBeUndefined();
  });

  it('forwards an unmatched preflight by default and answers it without Allow-Origin under IGNORE', () => {
    expect(evaluateCors(route(FULL), 'OPTIONS', preflight('https://evil.example'))).toBeUndefined();
    const ignore = route({ ...FULL, unmatchedPreflights: waypoint.UnmatchedPreflights.IGNORE });
    expect(evaluateCors(ignore, 'OPTIONS', preflight('https://evil.example'))).toEqual({
      kind: 'preflight',
      headers: {
        'access-control-allow-credentials': 'true',
        'access-control-allow-methods': 'GET,POST',
        'access-control-allow-headers': 'authorization,content-type',
        'access-control-max-age': '600',
      },
    });
  });

  it('echoes the requested method and headers for "*" (an empty Allow-Headers when none were requested)', () => {
    const star = route({ allowOrigins: [exact(APP)], allowMethods: '*', allowHeaders: '*' });
    expect(evaluateCors(star, 'OPTIONS', preflight(APP, { 'access-control-request-headers': 'x-a, x-b' }))?.headers).toEqual({
      'access-control-allow-origin': APP, 'access-control-allow-methods': 'PUT', 'access-control-allow-headers': 'x-a, x-b',
    });
    expect(evaluateCors(star, 'OPTIONS', preflight(APP))?.headers['access-control-allow-headers']).toBe('');
  });

  it('allows every origin when a matcher accepts the literal "*" (exact "*", empty prefix)', () => {
    for (const m of [exact('*'), { kind: { case: 'prefix' as const, value: '' } }]) {
      expect(evaluateCors(route({ allowOrigins: [m] }), 'GET', { origin: 'https://any.example' })?.headers).toEqual({ 'access-control-allow-origin': 'https://any.example' });
    }
  });

  it('allows nothing without origins, and an invalid regex never matches and is reported at compile time', () => {
    expect(evaluateCors(route({}), 'GET', { origin: APP })).toBeUndefined();
    const bad = route({ allowOrigins: [{ kind: { case: 'regex', value: '(' } }] });
    expect(compileService(serviceRoutes({ hostname: 'h', routes: [bad] })).problems).toEqual([expect.stringContaining('cors allowOrigins[0]: invalid regex')]);
    expect(evaluateCors(bad, 'GET', { origin: '(' })).toBeUndefined();
  });

  it('property: Allow-Origin is only ever the request Origin, and only when an exact entry lists it', () => {
    const origin = fc.oneof(fc.constantFrom(APP, 'https://b.example', '*'), fc.string());
    fc.assert(
      fc.property(fc.array(fc.constantFrom(APP, 'https://b.example'), { maxLength: 2 }), origin, fc.constantFrom('GET', 'OPTIONS'), fc.boolean(), (list, o, method, ignore) => {
        const r = route({ allowOrigins: list.map(exact), allowMethods: 'GET', unmatchedPreflights: ignore ? waypoint.UnmatchedPreflights.IGNORE : waypoint.UnmatchedPreflights.FORWARD });
        const d = evaluateCors(r, method, { origin: o, 'access-control-request-method': 'GET' });
        const allowed = o !== '' && (list as string[]).includes(o);
        expect(d?.headers['access-control-allow-origin']).toBe(allowed ? o : undefined);
        // Only a preflight is ever answered locally; a disallowed one only under IGNORE.
        expect(d?.kind === 'preflight').toBe(method === 'OPTIONS' && o !== '' && (allowed || ignore));
      }),
    );
  });
});

describe('addCorsResponseHeaders', () => {
  it('adds the headers to the head, overriding the upstream values', () => {
    const written: unknown[] = [];
    const res = { writeHead: (status: number, headers?: Record<string, unknown>) => written.push([status, headers]) };
    addCorsResponseHeaders(res, { 'access-control-allow-origin': APP });
    res.writeHead(200, { 'content-type': 'text/plain', 'access-control-allow-origin': '*' });
    expect(written).toEqual([[200, { 'content-type': 'text/plain', 'access-control-allow-origin': APP }]]);
  });

  it('decorates an HTTP/2 response at stream.respond, which headers-only answers use directly', () => {
    const responded: unknown[] = [];
    const stream = { respond: (headers?: Record<string, unknown>, options?: object) => responded.push([headers, options]) };
    const res = { stream, writeHead: () => { throw new Error('HTTP/2 heads must not need writeHead'); } };
    addCorsResponseHeaders(res, { 'access-control-allow-origin': APP });
    res.stream.respond({ ':status': 204 }, { endStream: true });
    expect(responded).toEqual([[{ ':status': 204, 'access-control-allow-origin': APP }, { endStream: true }]]);
  });
});
