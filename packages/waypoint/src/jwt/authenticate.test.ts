import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { create, waypoint, type MessageInitShape } from '@mesh/api';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticateJwt } from './authenticate';
import { JWT_STATUS } from './errors';
import { KeySets } from './keys';

const ISS = 'https://issuer.example';
let priv: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
let jwk: JWK;
let server: http.Server;
let fetches = 0;
let discoveries = 0;
let jwksUri = '';
let issuerUrl = '';

async function token(claims: Record<string, unknown>, opts: { iss?: string; exp?: string } = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(opts.iss ?? ISS).setSubject('alice')
    .setIssuedAt().setExpirationTime(opts.exp ?? '1h').sign(priv);
}

function rule(init: MessageInitShape<typeof waypoint.JwtRuleSchema> = {}): waypoint.JwtRule {
  return create(waypoint.JwtRuleSchema, { issuer: ISS, jwks: JSON.stringify({ keys: [jwk] }), ...init });
}

beforeAll(async () => {
  const kp = await generateKeyPair('RS256');
  priv = kp.privateKey;
  jwk = { ...(await exportJWK(kp.publicKey)), kid: 'k1', alg: 'RS256' };
  server = http.createServer((req, res) => {
    if (req.url === '/tenant/.well-known/openid-configuration') {
      discoveries++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: issuerUrl, jwks_uri: jwksUri }));
      return;
    }
    fetches++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  issuerUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tenant/`;
});

afterAll(() => {
  server.close();
});

const keys = new KeySets();

describe('authenticateJwt', () => {
  it('verifies a bearer token and yields <iss>/<sub> and the claims', async () => {
    const t = await token({ groups: ['dev'] });
    const r = await authenticateJwt(keys, [rule()], { headers: { authorization: `Bearer ${t}` }, url: '/' });
    expect(r.kind).toBe('verified');
    if (r.kind !== 'verified') return;
    expect(r.principal).toBe(`${ISS}/alice`);
    expect(r.claims['groups']).toEqual(['dev']);
    expect(r.removeHeaders).toEqual(['authorization']);
  });

  it('reads the default access_token query parameter and custom headers with prefixes', async () => {
    const t = await token({});
    expect((await authenticateJwt(keys, [rule()], { headers: {}, url: `/p?access_token=${t}` })).kind).toBe('verified');
    const custom = rule({ fromHeaders: [{ name: 'x-jwt', prefix: 'Token ' }] });
    expect((await authenticateJwt(keys, [custom], { headers: { 'x-jwt': `Token ${t}` }, url: '/' })).kind).toBe('verified');
    // A configured location replaces the defaults.
    expect((await authenticateJwt(keys, [custom], { headers: { authorization: `Bearer ${t}` }, url: '/' })).kind).toBe('missing');
  });

  it('reads fromCookies tokens (quoted or not) after headers and params, and leaves the cookie in place', async () => {
    const t = await token({});
    const cookieRule = rule({ fromCookies: ['session'] });
    const r = await authenticateJwt(keys, [cookieRule], { headers: { cookie: `theme=dark; session="${t}"` }, url: '/' });
    expect(r.kind).toBe('verified');
    if (r.kind === 'verified') expect(r.removeHeaders).toEqual([]);
    expect((await authenticateJwt(keys, [cookieRule], { headers: { cookie: `other=${t}` }, url: '/' })).kind).toBe('missing');
  });

  it('answers Envoy status texts for malformed, foreign, expired and wrong-audience tokens', async () => {
    const fail = async (r: waypoint.JwtRule, t: string): Promise<string> => {
      const o = await authenticateJwt(keys, [r], { headers: { authorization: `Bearer ${t}` }, url: '/' });
      return o.kind === 'failed' ? o.error.message : o.kind;
    };
    expect(await fail(rule(), 'abc.def')).toBe(JWT_STATUS.malformed);
    const expired = await authenticateJwt(keys, [rule()], { headers: { authorization: `Bearer ${await token({}, { exp: '-1m' })}` }, url: '/' });
    expect(expired.kind === 'failed' ? expired.error.code : expired.kind).toBe('WAYPOINT_JWT_EXPIRED');
    expect(await fail(rule(), await token({}, { iss: 'https://other' }))).toBe(JWT_STATUS.unknownIssuer);
    expect(await fail(rule(), await token({}, { exp: '-10m' }))).toBe(JWT_STATUS.expired);
    expect(await fail(rule({ audiences: ['svc-a'] }), await token({ aud: 'svc-b' }))).toBe(JWT_STATUS.audience);
    const t = await token({});
    const tampered = `${t.slice(0, -4)}AAAA`;
    expect(await fail(rule(), tampered)).toBe(JWT_STATUS.verification);
  });

  it('outputs the payload and claims to headers, keeps the token when forwardOriginalToken', async () => {
    const t = await token({ tenant: 't1' });
    const r = await authenticateJwt(keys, [rule({ forwardOriginalToken: true, outputPayloadToHeader: 'x-jwt-payload', outputClaimToHeaders: [{ header: 'x-tenant', claim: 'tenant' }] })],
      { headers: { authorization: `Bearer ${t}` }, url: '/' });
    if (r.kind !== 'verified') throw new Error(r.kind);
    expect(r.removeHeaders).toEqual([]);
    expect(r.setHeaders['x-tenant']).toBe('t1');
    const payload = JSON.parse(Buffer.from(r.setHeaders['x-jwt-payload']!, 'base64url').toString()) as { sub: string };
    expect(payload.sub).toBe('alice');
  });

  it('fetches jwks_uri once and serves later tokens from the cache', async () => {
    const remote = new KeySets({ refreshIntervalMs: 60_000 });
    const r = rule({ jwks: '', jwksUri });
    fetches = 0;
    for (let i = 0; i < 3; i++) {
      const o = await authenticateJwt(remote, [r], { headers: { authorization: `Bearer ${await token({})}` }, url: '/' });
      expect(o.kind).toBe('verified');
    }
    expect(fetches).toBe(1);
  });

  it('refetches jwks_uri once the refresh interval passed (picks up a rotated key)', async () => {
    const remote = new KeySets({ refreshIntervalMs: 50 });
    const r = rule({ jwks: '', jwksUri });
    fetches = 0;
    const auth = async (): Promise<string> => (await authenticateJwt(remote, [r], { headers: { authorization: `Bearer ${await token({})}` }, url: '/' })).kind;
    expect(await auth()).toBe('verified');
    expect(await auth()).toBe('verified');
    expect(fetches).toBe(1);
    await new Promise((res) => setTimeout(res, 80));
    expect(await auth()).toBe('verified');
    expect(fetches).toBe(2);
  });

  it('without jwks or jwksUri, finds the key set through the issuer\'s OpenID discovery document, once', async () => {
    const discovering = new KeySets({ refreshIntervalMs: 60_000 });
    const r = rule({ issuer: issuerUrl, jwks: '', jwksUri: '' });
    discoveries = 0;
    fetches = 0;
    for (let i = 0; i < 2; i++) {
      const o = await authenticateJwt(discovering, [r], { headers: { authorization: `Bearer ${await token({}, { iss: issuerUrl })}` }, url: '/' });
      expect(o.kind).toBe('verified');
    }
    expect([discoveries, fetches]).toEqual([1, 1]);
  });

  it('a failed discovery answers Envoy\'s fetch failure and is retried on the next token', async () => {
    let calls = 0;
    const failing = new KeySets({ fetch: () => (calls++, Promise.resolve(new Response('nope', { status: 404 }))), failedRefetchMs: 0 });
    const r = rule({ issuer: 'https://idp.invalid', jwks: '', jwksUri: '' });
    const auth = async () => authenticateJwt(failing, [r], { headers: { authorization: `Bearer ${await token({}, { iss: 'https://idp.invalid' })}` }, url: '/' });
    const o = await auth();
    expect(o.kind === 'failed' ? o.error.message : o.kind).toBe(JWT_STATUS.fetchFailed);
    await auth();
    expect(calls).toBe(2);
  });

  it('a discovery document naming an unusable jwks_uri fails the token and is looked up again', async () => {
    let calls = 0;
    const bad = new KeySets({ fetch: () => (calls++, Promise.resolve(Response.json({ jwks_uri: 'not a url' }))), failedRefetchMs: 0 });
    const r = rule({ issuer: 'https://idp.invalid', jwks: '', jwksUri: '' });
    const auth = async () => authenticateJwt(bad, [r], { headers: { authorization: `Bearer ${await token({}, { iss: 'https://idp.invalid' })}` }, url: '/' });
    const o = await auth();
    expect(o.kind === 'failed' ? [o.error.message, String(o.error.cause)] : o.kind).toEqual([JWT_STATUS.fetchFailed, expect.stringContaining('no usable jwks_uri: "not a url"')]);
    await auth();
    expect(calls).toBe(2);
  });

  it('a failed discovery is not fetched again for every token before the refetch time', async () => {
    let calls = 0;
    const failing = new KeySets({ fetch: () => (calls++, Promise.resolve(new Response('nope', { status: 503 }))), failedRefetchMs: 150 });
    const r = rule({ issuer: 'https://idp.invalid', jwks: '', jwksUri: '' });
    const t = await token({}, { iss: 'https://idp.invalid' });
    const auth = async () => authenticateJwt(failing, [r], { headers: { authorization: `Bearer ${t}` }, url: '/' });
    const outcomes = await Promise.all(Array.from({ length: 5 }, auth));
    for (let i = 0; i < 5; i++) await auth();
    expect(outcomes.map((o) => (o.kind === 'failed' ? o.error.message : o.kind))).toEqual(Array(5).fill(JWT_STATUS.fetchFailed));
    expect(calls).toBe(1);
    await new Promise((res) => setTimeout(res, 200));
    expect((await auth()).kind).toBe('failed');
    expect(calls).toBe(2);
  });

  it('bounds the JWKS fetch with a timeout (injected fetch that never answers)', async () => {
    const hanging = new KeySets({ fetch: () => new Promise<Response>(() => undefined), fetchTimeoutMs: 50 });
    const o = await authenticateJwt(hanging, [rule({ jwks: '', jwksUri: 'http://127.0.0.1:1/jwks' })], { headers: { authorization: `Bearer ${await token({})}` }, url: '/' });
    expect(o.kind === 'failed' ? o.error.message : o.kind).toBe(JWT_STATUS.fetchFailed);
  });
});
