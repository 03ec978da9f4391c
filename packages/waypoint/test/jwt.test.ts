// RequestAuthentication end to end through a waypoint: JWT verified in the request path, request.auth.* fed
// to AuthorizationPolicy, token stripped / payload forwarded to the upstream pod.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@mesh/core';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { WaypointApp } from '../src/app/waypoint-app';
import { Client, fetchFromTestCa, id, podWorkload, service, spiffe, startPods, waypointConfig, type SeenConnect } from './harness';

const REVIEWS = 'reviews.default.svc.cluster.local';
const VIP = '10.96.0.10:80';
const ISS = 'https://auth.example.com';

let pods: Awaited<ReturnType<typeof startPods>>;
let app: WaypointApp;
let client: Client;
const RATINGS = 'ratings.default.svc.cluster.local';
let jwksFetches = 0;
let priv: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

function sign(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k' }).setIssuer(ISS).setSubject('bob').setAudience('reviews').setExpirationTime('1h').sign(priv);
}

const anyPrincipal = { from: [{ requestPrincipals: ['*'] }] };

beforeAll(async () => {
  const kp = await generateKeyPair('ES256');
  priv = kp.privateKey;
  const jwk: JWK = { ...(await exportJWK(kp.publicKey)), kid: 'k', alg: 'ES256' };
  const jwksBody = JSON.stringify({ keys: [jwk] });
  const seen: SeenConnect[] = [];
  pods = await startPods(['reviews-a'], seen);
  app = new WaypointApp({
    identity: id('default', 'waypoint'), fetchCertificate: fetchFromTestCa, listen: { host: '127.0.0.1', port: 0 }, upstreamHbonePort: pods.hbonePort,
    logger: createLogger({ component: 'waypoint-test', level: 'silent' }),
    // JWKS from jwks_uri through the injected fetch (no network needed).
    jwks: {
      fetch: (url) => {
        jwksFetches++;
        return Promise.resolve(url === `${ISS}/jwks` ? new Response(jwksBody, { headers: { 'content-type': 'application/json' } }) : new Response('', { status: 404 }));
      },
    },
  });
  app.upstream.upsertService(service('ratings', '10.96.0.20'));
  app.upstream.upsertService(service('reviews', '10.96.0.10'));
  app.upstream.upsertWorkload(podWorkload('reviews-a', '127.0.0.2', { [`default/${REVIEWS}`]: 9080, [`default/${RATINGS}`]: 9080 }));
  app.setConfig(waypointConfig({
    name: 'waypoint', namespace: 'default',
    services: [{
      hostname: RATINGS, name: 'ratings', namespace: 'default', vips: ['10.96.0.20'], ports: [{ port: 80, targetPort: 9080 }],
      routes: [{ name: 'default', backends: [{ hostname: RATINGS, port: 80, weight: 1 }] }],
      jwtRules: [{ issuer: ISS, jwksUri: `${ISS}/jwks`, forwardOriginalToken: true }],
      policies: [{ name: 'default/ratings-jwt', namespace: 'default', rules: [{ ...anyPrincipal, when: [{ key: 'request.auth.principal', values: [`${ISS}/bob`] }] }] }],
    }, {
      hostname: REVIEWS, name: 'reviews', namespace: 'default', vips: ['10.96.0.10'], ports: [{ port: 80, targetPort: 9080 }],
      routes: [{ name: 'default', backends: [{ hostname: REVIEWS, port: 80, weight: 1 }] }],
      jwtRules: [{
        issuer: ISS, audiences: ['reviews'], jwks: JSON.stringify({ keys: [jwk] }), outputPayloadToHeader: 'x-jwt-payload',
        fromHeaders: [{ name: 'authorization', prefix: 'Bearer ' }], fromParams: ['access_token'],
      }],
      policies: [{
        name: 'default/require-jwt', namespace: 'default',
        rules: [
          { ...anyPrincipal, to: [{ paths: ['/open*'] }] },
          { ...anyPrincipal, to: [{ paths: ['/admin*'] }], when: [{ key: 'request.auth.claims[groups]', values: ['admin'] }] },
        ],
      }],
    }],
  }));
  await app.start();
  client = new Client(id('default', 'productpage'), app.hboneAddress!.port, spiffe('default', 'waypoint'));
});

afterAll(async () => {
  await client?.close();
  await app?.stop();
  await pods?.close();
});

describe('waypoint RequestAuthentication', () => {
  it('verifies against a jwks_uri key set fetched once and cached, forwarding the original token', async () => {
    const t = await sign({});
    for (let i = 0; i < 3; i++) {
      const r = await client.get('10.96.0.20:80', '/r', { authorization: `Bearer ${t}` });
      expect(r.status).toBe(200);
      expect((JSON.parse(r.body) as { headers: Record<string, string> }).headers.authorization).toBe(`Bearer ${t}`);
    }
    expect(jwksFetches).toBe(1);
    expect((await client.get('10.96.0.20:80', '/r')).status).toBe(403);
  });

  it('forwards a request with a valid token, stripping it and passing the payload header', async () => {
    const r = await client.get(VIP, '/open/x', { authorization: `Bearer ${await sign({ groups: ['dev'] })}` });
    expect(r.status).toBe(200);
    const seenHeaders = (JSON.parse(r.body) as { headers: Record<string, string> }).headers;
    expect(seenHeaders.authorization).toBeUndefined();
    const payload = JSON.parse(Buffer.from(seenHeaders['x-jwt-payload']!, 'base64url').toString()) as { sub: string; iss: string };
    expect(`${payload.iss}/${payload.sub}`).toBe(`${ISS}/bob`);
  });

  it('rejects an invalid token with 401 and Envoy jwt_authn text', async () => {
    const r = await client.get(VIP, '/open/x', { authorization: 'Bearer not-a-jwt' });
    expect(r.status).toBe(401);
    expect(r.body).toBe('Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections');
    expect(r.headers['www-authenticate']).toMatch(/^Bearer realm="http:\/\/.*\/open\/x", error="invalid_token"$/);
  });

  it('answers 403 with Envoy text for a token whose audience is not allowed', async () => {
    const t = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k' }).setIssuer(ISS).setSubject('bob').setAudience('other').setExpirationTime('1h').sign(priv);
    const r = await client.get(VIP, '/open/x', { authorization: `Bearer ${t}` });
    expect(r.status).toBe(403);
    expect(r.body).toBe('Audiences in Jwt are not allowed');
  });

  it('lets a request without a token through to authorization, which denies it (403)', async () => {
    const r = await client.get(VIP, '/open/x');
    expect(r.status).toBe(403);
    expect(r.body).toBe('RBAC: access denied');
  });

  it('applies claims-based when conditions (request.auth.claims[groups])', async () => {
    expect((await client.get(VIP, '/admin', { authorization: `Bearer ${await sign({ groups: ['dev'] })}` })).status).toBe(403);
    expect((await client.get(VIP, `/admin?access_token=${await sign({ groups: ['ops', 'admin'] })}`)).status).toBe(200);
  });
});
