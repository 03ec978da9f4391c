import { describe, expect, it } from 'vitest';
import { waypoint } from '@mesh/api';
import { compileWaypointConfig } from './compile';
import { compileGatewayCors, compileVsCors } from './cors';
import { loadFixture, svc } from './testing';

const api = svc('api', 'web', '10.96.7.1', [8080]);
const assets = svc('assets', 'web', '10.96.7.2', [8080]);

describe('CORS compilation (cors.yaml fixture)', () => {
  const input = loadFixture('cors.yaml', [api, assets]);
  const { config, warnings } = compileWaypointConfig(input);
  const routesOf = (name: string) => config.services.find((s) => s.name === name)!.routes;

  it('parses the fixture; the only warning is the literal wildcard origin', () => {
    expect(input.parseErrors).toEqual([]);
    expect(warnings).toEqual([
      { code: 'UNSUPPORTED_FIELD', resource: 'HTTPRoute web/assets', message: 'CORS allowOrigins "https://*.example.net": wildcards other than "*" are matched literally, as Istio does' },
    ]);
  });

  it('translates a VirtualService corsPolicy as Istio TranslateCORSPolicy', () => {
    const cors = routesOf('api').find((r) => r.name === 'web/api/public')!.cors!;
    expect(cors.allowOrigins.map((m) => m.kind)).toEqual([
      { case: 'exact', value: 'https://app.example.com' },
      { case: 'prefix', value: 'https://preview-' },
      { case: 'regex', value: 'https://[a-z]+\\.example\\.org' },
    ]);
    expect(cors).toMatchObject({
      allowMethods: 'GET,POST,PUT', allowHeaders: 'authorization,content-type', exposeHeaders: 'x-request-id,x-total',
      maxAge: '86400', allowCredentials: true, unmatchedPreflights: waypoint.UnmatchedPreflights.IGNORE,
    });
  });

  it('takes the deprecated allowOrigin as exact matches; forwards unmatched preflights', () => {
    const cors = routesOf('api').find((r) => r.name === 'web/api/legacy')!.cors!;
    expect(cors.allowOrigins.map((m) => m.kind)).toEqual([{ case: 'exact', value: 'https://old.example.com' }]);
    expect(cors).toMatchObject({ maxAge: '90', allowMethods: '', allowCredentials: false, unmatchedPreflights: waypoint.UnmatchedPreflights.FORWARD });
  });

  it('translates the HTTPRoute CORS filter as Istio createCorsFilter, with the CRD maxAge default', () => {
    const [open, all] = [routesOf('assets').find((r) => r.name === 'web/assets/1:8080')!, routesOf('assets').find((r) => r.name === 'web/assets/0:8080')!];
    expect(all.cors).toMatchObject({ allowMethods: '*', allowHeaders: '*', exposeHeaders: 'etag', maxAge: '5', allowCredentials: true });
    expect(all.cors!.allowOrigins.map((m) => m.kind)).toEqual([
      { case: 'exact', value: 'https://app.example.com' },
      { case: 'exact', value: 'https://*.example.net' },
    ]);
    expect(open.cors).toMatchObject({ maxAge: '600', allowCredentials: false, unmatchedPreflights: waypoint.UnmatchedPreflights.FORWARD });
    expect(open.cors!.allowOrigins.map((m) => m.kind)).toEqual([{ case: 'exact', value: '*' }]);
  });

  it('leaves routes without a policy without CORS', () => {
    const plain = compileWaypointConfig({ ...input, virtualServices: [], httpRoutes: [] });
    expect(plain.config.services.flatMap((s) => s.routes).every((r) => r.cors === undefined)).toBe(true);
  });
});

describe('compileVsCors / compileGatewayCors edge cases', () => {
  it('warns on an origin StringMatch without a kind and on a bad maxAge, dropping both', () => {
    const warned: string[] = [];
    const cors = compileVsCors({ allowOrigins: [{}, { exact: 'https://a' }], maxAge: 'soon' }, (m) => warned.push(m));
    expect(cors.allowOrigins).toHaveLength(1);
    expect(cors.maxAge).toBe('');
    expect(warned).toEqual([
      'corsPolicy.allowOrigins[0] has no exact, prefix or regex; it allows nothing',
      'corsPolicy.maxAge: invalid duration "soon"; no Access-Control-Max-Age is sent',
    ]);
  });

  it('sends maxAge as whole seconds (Istio MaxAge.GetSeconds), for input that skipped validation', () => {
    expect(compileVsCors({ maxAge: '1500ms' }, () => {}).maxAge).toBe('1');
  });

  it('prefers allowOrigins over the deprecated allowOrigin, as Istio', () => {
    const cors = compileVsCors({ allowOrigins: [{ exact: 'https://new' }], allowOrigin: ['https://old'] }, () => {});
    expect(cors.allowOrigins.map((m) => m.kind.value)).toEqual(['https://new']);
  });

  it('drops empty Gateway API origins and keeps "*" without a warning', () => {
    const warned: string[] = [];
    const cors = compileGatewayCors({ allowOrigins: ['', '*'] }, (m) => warned.push(m));
    expect(cors.allowOrigins.map((m) => m.kind.value)).toEqual(['*']);
    expect(warned).toEqual([]);
  });
});
