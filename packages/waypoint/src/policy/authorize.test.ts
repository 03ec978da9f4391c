import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { authorizeHttp, RBAC_DENIED_BODY } from './authorize';
import { compilePolicies } from './compile';
import { ALLOW, AUDIT, DENY, authzRequest, policy, type PolicyInit } from './testing';

const allowIf = (rules: PolicyInit['rules']) => policy({ name: 'ns/allow', action: ALLOW, rules });
const denyIf = (rules: PolicyInit['rules']) => policy({ name: 'ns/deny', action: DENY, rules });
const ok = (ps: ReturnType<typeof policy>[], over: Parameters<typeof authzRequest>[0] = {}) => authorizeHttp(ps, authzRequest(over)).allow;

describe('authorizeHttp evaluation order', () => {
  it('allows when no policies apply', () => {
    expect(authorizeHttp([], authzRequest())).toMatchObject({ allow: true, reason: 'no-allow-policies' });
  });

  it('DENY wins over a matching ALLOW and names the deciding rule', () => {
    const d = authorizeHttp([allowIf([{}]), denyIf([{ to: [{ methods: ['POST'] }] }, { to: [{ paths: ['/admin*'] }] }])], authzRequest({ path: '/admin/x' }));
    expect(d).toMatchObject({ allow: false, status: 403, body: RBAC_DENIED_BODY, reason: 'deny-policy-matched', decidedBy: { policy: 'ns/deny', rule: 1 } });
  });

  it('with ALLOW policies present, a request matching none is denied with 403', () => {
    const d = authorizeHttp([allowIf([{ to: [{ methods: ['GET'] }] }])], authzRequest({ method: 'DELETE' }));
    expect(d).toMatchObject({ allow: false, status: 403, body: 'RBAC: access denied', reason: 'no-allow-policy-matched' });
    expect(d.decidedBy).toBeUndefined();
  });

  it('an ALLOW policy without rules allows nothing; an empty rule allows everything', () => {
    expect(ok([allowIf([])])).toBe(false);
    expect(ok([allowIf([{}])])).toBe(true);
    expect(ok([denyIf([])])).toBe(true);
  });

  it('AUDIT is reported and never changes the decision', () => {
    const d = authorizeHttp([policy({ name: 'ns/audit', action: AUDIT, rules: [{}] }), allowIf([])], authzRequest());
    expect(d.allow).toBe(false);
    expect(d.audited).toEqual([{ policy: 'ns/audit', rule: 0, source: undefined }]);
  });

  it('accepts precompiled policies', () => {
    const set = compilePolicies([denyIf([{ to: [{ methods: ['PUT'] }] }])]);
    expect(authorizeHttp(set, authzRequest({ method: 'PUT' })).allow).toBe(false);
    expect(authorizeHttp(set, authzRequest({ method: 'GET' })).allow).toBe(true);
  });
});

describe('authorizeHttp source matching', () => {
  it('principals: exact (spiffe:// stripped), prefix*, *suffix and * (requires mTLS)', () => {
    for (const p of ['cluster.local/ns/client-ns/sa/client', 'cluster.local/ns/client-ns/*', '*/sa/client', '*']) {
      expect(ok([allowIf([{ from: [{ principals: [p] }] }])]), p).toBe(true);
      expect(ok([allowIf([{ from: [{ principals: [p] }] }])], { sourcePrincipal: undefined }), p).toBe(false);
    }
    expect(ok([allowIf([{ from: [{ principals: ['cluster.local/ns/other/sa/client'] }] }])])).toBe(false);
    expect(ok([allowIf([{ from: [{ notPrincipals: ['*/sa/client'] }] }])])).toBe(false);
  });

  it('namespaces come from the request or the principal; serviceAccounts as ns/sa', () => {
    expect(ok([allowIf([{ from: [{ namespaces: ['client-ns'] }] }])])).toBe(true);
    expect(ok([allowIf([{ from: [{ namespaces: ['client-*'] }] }])])).toBe(true);
    expect(ok([allowIf([{ from: [{ notNamespaces: ['client-ns'] }] }])])).toBe(false);
    expect(ok([allowIf([{ from: [{ namespaces: ['x'] }] }])], { sourceNamespace: 'x' })).toBe(true);
    expect(ok([allowIf([{ from: [{ serviceAccounts: ['client-ns/client'] }] }])])).toBe(true);
    expect(ok([allowIf([{ from: [{ serviceAccounts: ['client-ns/other'] }] }])])).toBe(false);
  });

  it('requestPrincipals, ipBlocks and remoteIpBlocks', () => {
    expect(ok([allowIf([{ from: [{ requestPrincipals: ['https://issuer/*'] }] }])], { requestPrincipal: 'https://issuer/alice' })).toBe(true);
    expect(ok([allowIf([{ from: [{ requestPrincipals: ['*'] }] }])])).toBe(false);
    expect(ok([allowIf([{ from: [{ ipBlocks: ['10.0.0.0/24'] }] }])])).toBe(true);
    expect(ok([allowIf([{ from: [{ ipBlocks: ['10.0.1.0/24', 'fd00::/8'] }] }])])).toBe(false);
    expect(ok([allowIf([{ from: [{ notIpBlocks: ['10.0.0.5'] }] }])])).toBe(false);
    expect(ok([allowIf([{ from: [{ remoteIpBlocks: ['192.168.0.0/16'] }] }])], { remoteIp: '192.168.3.4' })).toBe(true);
    expect(ok([allowIf([{ from: [{ remoteIpBlocks: ['192.168.0.0/16'] }] }])])).toBe(false);
  });

  it('fields within a source are AND-ed and sources are OR-ed', () => {
    const rules = [{ from: [{ principals: ['*'], namespaces: ['nope'] }, { ipBlocks: ['10.0.0.5/32'] }] }];
    expect(ok([allowIf(rules)])).toBe(true);
    expect(ok([allowIf(rules)], { sourceIp: '10.9.9.9' })).toBe(false);
  });
});

describe('authorizeHttp operation matching', () => {
  it('hosts are case-insensitive and match with or without the port', () => {
    const p = allowIf([{ to: [{ hosts: ['SVC.ns.svc.cluster.local'] }] }]);
    expect(ok([p])).toBe(true);
    expect(ok([p], { authority: 'svc.ns.svc.cluster.local' })).toBe(true);
    expect(ok([allowIf([{ to: [{ hosts: ['*.cluster.local'] }] }])])).toBe(true);
    expect(ok([allowIf([{ to: [{ hosts: ['svc.ns.svc.cluster.local:9090'] }] }])])).toBe(false);
    expect(ok([allowIf([{ to: [{ hosts: ['svc.ns.svc.cluster.local:8080'] }] }])])).toBe(true);
  });

  it('paths: exact, prefix*, *suffix, *, templates, after BASE normalisation', () => {
    const paths = (p: string[], path: string) => ok([allowIf([{ to: [{ paths: p }] }])], { path });
    expect(paths(['/public'], '/public?x=1')).toBe(true);
    expect(paths(['/public*'], '/public/a')).toBe(true);
    expect(paths(['*.png'], '/img/a.png')).toBe(true);
    expect(paths(['*'], '/anything')).toBe(true);
    expect(paths(['/api/{*}/info'], '/api/v1/info')).toBe(true);
    expect(paths(['/api/{*}/info'], '/api/v1/x/info')).toBe(false);
    expect(paths(['/api/{**}'], '/api/v1/x/info')).toBe(true);
    expect(paths(['/admin'], '/public/../admin')).toBe(true);
    expect(paths(['/admin'], '/%61dmin')).toBe(true);
    expect(ok([denyIf([{ to: [{ notPaths: ['/healthz'] }] }])], { path: '/healthz' })).toBe(true);
    expect(ok([denyIf([{ to: [{ notPaths: ['/healthz'] }] }])], { path: '/x' })).toBe(false);
  });

  it('methods and ports', () => {
    expect(ok([allowIf([{ to: [{ methods: ['GET', 'HEAD'], ports: ['8080'] }] }])])).toBe(true);
    expect(ok([allowIf([{ to: [{ methods: ['GET'], notPorts: ['8080'] }] }])])).toBe(false);
    expect(ok([allowIf([{ to: [{ notMethods: ['GET'] }] }])])).toBe(false);
  });
});

describe('authorizeHttp when conditions', () => {
  const when = (key: string, values: string[], over: Parameters<typeof authzRequest>[0] = {}, notValues: string[] = []) =>
    ok([allowIf([{ when: [{ key, values, notValues }] }])], over);

  it('request.headers[...] (case-insensitive name), source.*, destination.port, connection.sni', () => {
    expect(when('request.headers[X-Token]', ['abc*'], { headers: { 'x-token': 'abcdef' } })).toBe(true);
    expect(when('request.headers[x-token]', ['abc'], {})).toBe(false);
    expect(when('request.headers[x-token]', [], {}, ['bad'])).toBe(true);
    expect(when('source.ip', ['10.0.0.0/8'])).toBe(true);
    expect(when('remote.ip', ['10.0.0.5'])).toBe(true);
    expect(when('source.namespace', ['client-ns'])).toBe(true);
    expect(when('source.principal', ['cluster.local/ns/client-ns/sa/client'])).toBe(true);
    expect(when('destination.port', ['8080'])).toBe(true);
    expect(when('destination.port', [], {}, ['8080'])).toBe(false);
    expect(when('connection.sni', ['svc.*'], { sni: 'svc.example' })).toBe(true);
  });

  it('request.auth principal, audiences and (nested) claims', () => {
    const claims = { aud: ['a1', 'a2'], groups: ['dev', 'ops'], realm: { roles: ['admin'] }, level: 3 };
    expect(when('request.auth.principal', ['iss/sub'], { requestPrincipal: 'iss/sub' })).toBe(true);
    expect(when('request.auth.audiences', ['a2'], { claims })).toBe(true);
    expect(when('request.auth.claims[groups]', ['ops'], { claims })).toBe(true);
    expect(when('request.auth.claims[realm][roles]', ['admin'], { claims })).toBe(true);
    expect(when('request.auth.claims[realm][missing]', ['admin'], { claims })).toBe(false);
    expect(when('request.auth.claims[level]', ['3'], { claims })).toBe(true);
    expect(when('request.auth.claims[groups]', ['dev'])).toBe(false);
  });

  it('unknown keys fail closed: never true in ALLOW, always true in DENY', () => {
    expect(when('no.such.key', ['x'])).toBe(false);
    expect(ok([denyIf([{ when: [{ key: 'no.such.key', values: ['x'] }] }])])).toBe(false);
    expect(compilePolicies([denyIf([{ when: [{ key: 'no.such.key', values: ['x'] }] }])]).problems[0]).toMatch(/unsupported condition key/);
  });
});

describe('authorizeHttp properties', () => {
  const str = fc.string({ maxLength: 12 });
  const patterns = fc.array(fc.oneof(str, str.map((s) => `${s}*`), str.map((s) => `*${s}`), fc.constant('*')), { maxLength: 3 });
  const ruleArb = fc.record(
    {
      from: fc.array(fc.record({ principals: patterns, notNamespaces: patterns, ipBlocks: fc.array(fc.constantFrom('10.0.0.0/8', 'bad', '::1/200')) }, { requiredKeys: [] }), { maxLength: 2 }),
      to: fc.array(fc.record({ paths: patterns, methods: patterns, hosts: patterns, notPorts: fc.array(fc.constantFrom('80', '8080')) }, { requiredKeys: [] }), { maxLength: 2 }),
      when: fc.array(fc.record({ key: fc.constantFrom('request.headers[x]', 'source.ip', 'request.auth.claims[a][b]', 'bogus', 'destination.port'), values: patterns, notValues: patterns }), { maxLength: 2 }),
    },
    { requiredKeys: [] },
  );
  const policyArb = fc.record({ action: fc.constantFrom(ALLOW, DENY, AUDIT), rules: fc.array(ruleArb, { maxLength: 3 }) }).map((p, i = 0) => policy({ name: `ns/p${i}`, ...p }));
  const reqArb = fc.record({
    method: fc.constantFrom('GET', 'POST'),
    path: fc.oneof(str, str.map((s) => `/${s}`)),
    authority: str,
    headers: fc.dictionary(fc.constantFrom('x', 'y'), str),
    sourceIp: fc.oneof(fc.constant('10.1.2.3'), fc.constant('::1'), str),
    sourcePrincipal: fc.option(str, { nil: undefined }),
    claims: fc.option(fc.object(), { nil: undefined }),
  });

  it('never throws', () => {
    fc.assert(
      fc.property(fc.array(policyArb, { maxLength: 4 }), reqArb, (ps, r) => {
        const d = authorizeHttp(ps, authzRequest(r));
        expect(typeof d.allow).toBe('boolean');
      }),
    );
  });

  it('adding a DENY policy never turns a deny into an allow', () => {
    fc.assert(
      fc.property(fc.array(policyArb, { maxLength: 4 }), fc.array(ruleArb, { maxLength: 3 }), reqArb, (ps, rules, r) => {
        const req = authzRequest(r);
        const before = authorizeHttp(ps, req).allow;
        const after = authorizeHttp([...ps, policy({ name: 'ns/extra', action: DENY, rules })], req).allow;
        if (!before) expect(after).toBe(false);
      }),
    );
  });
});
