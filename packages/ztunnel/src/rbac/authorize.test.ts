import { security } from '@mesh/api';
import { describe, expect, it } from 'vitest';
import { MeshState } from '../state/store';
import { cidr, exact, makePolicy, makeWorkload, prefix, presence, suffix, type MatchInit } from '../state/test-fixtures';
import { Authorizer, evaluatePolicies, type RbacConnection } from './authorize';

const DENY = security.Action.DENY;
const ALLOW = security.Action.ALLOW;
const ID = { trustDomain: 'cluster.local', namespace: 'client-ns', serviceAccount: 'client-sa' };
const BASE = { srcIp: '10.0.0.1', srcIdentity: ID, dstIp: '10.0.0.2', dstPort: 8080 };

/** One ALLOW policy with one group, one rule, one Match; does it match the connection? */
function allowWith(match: MatchInit, conn: Partial<Omit<RbacConnection, 'dstWorkload'>> = {}): boolean {
  const p = makePolicy({ name: 'p', action: ALLOW, groups: [{ rules: [{ matches: [match] }] }] });
  return evaluatePolicies({ ...BASE, ...conn }, [p]).allow;
}

describe('Match field kinds', () => {
  it.each<[string, MatchInit, Partial<Omit<RbacConnection, 'dstWorkload'>>, boolean]>([
    ['principal exact', { principals: [exact('cluster.local/ns/client-ns/sa/client-sa')] }, {}, true],
    ['principal exact with spiffe:// never matches', { principals: [exact('spiffe://cluster.local/ns/client-ns/sa/client-sa')] }, {}, false],
    ['principal prefix', { principals: [prefix('cluster.local/ns/client-ns/')] }, {}, true],
    ['principal suffix', { principals: [suffix('/sa/client-sa')] }, {}, true],
    ['principal suffix miss', { principals: [suffix('/sa/other')] }, {}, false],
    ['principal presence', { principals: [presence()] }, {}, true],
    ['principal presence, no identity', { principals: [presence()] }, { srcIdentity: undefined }, false],
    ['principal prefix "" needs an identity', { principals: [prefix('')] }, { srcIdentity: undefined }, false],
    ['principal values OR', { principals: [exact('x'), suffix('client-sa')] }, {}, true],
    ['not_principals exact hit', { notPrincipals: [exact('cluster.local/ns/client-ns/sa/client-sa')] }, {}, false],
    ['not_principals miss', { notPrincipals: [exact('cluster.local/ns/x/sa/y')] }, {}, true],
    ['not_principals presence with identity', { notPrincipals: [presence()] }, {}, false],
    ['not_principals presence without identity', { notPrincipals: [presence()] }, { srcIdentity: undefined }, true],
    ['namespace exact', { namespaces: [exact('client-ns')] }, {}, true],
    ['namespace miss', { namespaces: [exact('other')] }, {}, false],
    ['namespace without identity', { namespaces: [exact('client-ns')] }, { srcIdentity: undefined }, false],
    // ztunnel compares namespaces against "" when there is no identity: exact("") matches then.
    ['namespace exact "" without identity', { namespaces: [exact('')] }, { srcIdentity: undefined }, true],
    ['not_namespaces hit', { notNamespaces: [prefix('client')] }, {}, false],
    ['not_namespaces miss', { notNamespaces: [exact('other')] }, {}, true],
    ['service account', { serviceAccounts: [{ namespace: 'client-ns', serviceAccount: 'client-sa' }] }, {}, true],
    ['service account wrong ns', { serviceAccounts: [{ namespace: 'x', serviceAccount: 'client-sa' }] }, {}, false],
    ['service account, no identity', { serviceAccounts: [{ namespace: 'client-ns', serviceAccount: 'client-sa' }] }, { srcIdentity: undefined }, false],
    ['not service account hit', { notServiceAccounts: [{ namespace: 'client-ns', serviceAccount: 'client-sa' }] }, {}, false],
    ['not service account, no identity', { notServiceAccounts: [{ namespace: 'client-ns', serviceAccount: 'client-sa' }] }, { srcIdentity: undefined }, true],
    ['source ip /24', { sourceIps: [cidr('10.0.0.0', 24)] }, {}, true],
    ['source ip host bits ignored', { sourceIps: [cidr('10.0.0.77', 24)] }, {}, true],
    ['source ip /32 miss', { sourceIps: [cidr('10.0.0.9', 32)] }, {}, false],
    ['source ip /0', { sourceIps: [cidr('0.0.0.0', 0)] }, {}, true],
    ['source ip v4-mapped peer is v4', { sourceIps: [cidr('10.0.0.0', 8)] }, { srcIp: '::ffff:10.0.0.1' }, true],
    ['source ip v6 CIDR does not contain v4', { sourceIps: [cidr('::', 0)] }, {}, false],
    ['source ip v4-mapped CIDR does not contain canonical v4', { sourceIps: [cidr('::ffff:10.0.0.0', 104)] }, {}, false],
    ['source ip v6', { sourceIps: [cidr('2001:db8::', 32)] }, { srcIp: '2001:db8::5' }, true],
    ['source ip v6 /33 odd prefix', { sourceIps: [cidr('2001:db8:8000::', 33)] }, { srcIp: '2001:db8::5' }, false],
    ['not source ip hit', { notSourceIps: [cidr('10.0.0.1', 32)] }, {}, false],
    ['not source ip miss', { notSourceIps: [cidr('10.9.0.0', 16)] }, {}, true],
    ['destination ip', { destinationIps: [cidr('10.0.0.2', 32)] }, {}, true],
    ['not destination ip', { notDestinationIps: [cidr('10.0.0.0', 30)] }, {}, false],
    ['destination port', { destinationPorts: [80, 8080] }, {}, true],
    ['destination port miss', { destinationPorts: [80] }, {}, false],
    ['destination port truncated to u16', { destinationPorts: [65536 + 8080] }, {}, true],
    ['not destination port', { notDestinationPorts: [8080] }, {}, false],
    ['kinds AND: ns ok, port wrong', { namespaces: [exact('client-ns')], destinationPorts: [9] }, {}, false],
    ['kinds AND: all ok', { namespaces: [exact('client-ns')], destinationPorts: [8080], sourceIps: [cidr('10.0.0.0', 8)] }, {}, true],
    ['positive and negative of one kind', { principals: [prefix('cluster.local/')], notPrincipals: [suffix('client-sa')] }, {}, false],
  ])('%s', (_name, match, conn, want) => {
    expect(allowWith(match, conn)).toBe(want);
  });

  it('a CIDR with a bad address length is dropped; the Match becomes empty and never matches', () => {
    const bad = { address: new Uint8Array([10, 0, 0]), length: 8 };
    expect(allowWith({ sourceIps: [bad] })).toBe(false);
    // ...but next to another field, only that field remains.
    expect(allowWith({ sourceIps: [bad], destinationPorts: [8080] })).toBe(true);
  });

  it('a prefix longer than the family is dropped', () => {
    expect(allowWith({ sourceIps: [cidr('10.0.0.1', 33)], destinationPorts: [8080] })).toBe(true);
  });
});

describe('policy structure', () => {
  const conn = BASE;
  it('a policy with zero groups never matches (ALLOW present -> deny)', () => {
    const d = evaluatePolicies(conn, [makePolicy({ name: 'empty', action: ALLOW })]);
    expect(d).toMatchObject({ allow: false, reason: 'NO_ALLOW_POLICY_MATCHED' });
  });
  it('a group with zero rules matches everything', () => {
    const d = evaluatePolicies(conn, [makePolicy({ name: 'all', action: ALLOW, groups: [{ rules: [] }] })]);
    expect(d).toMatchObject({ allow: true, policy: 'default/all', trace: { group: 0, rules: [] } });
  });
  it('a rule with zero matches is unconditional; a rule with only empty matches never matches', () => {
    const always = makePolicy({ name: 'a', action: ALLOW, groups: [{ rules: [{ matches: [] }] }] });
    expect(evaluatePolicies(conn, [always]).trace).toEqual({ group: 0, rules: [-1] });
    const emptyMatch = makePolicy({ name: 'b', action: ALLOW, groups: [{ rules: [{ matches: [{}] }] }] });
    expect(evaluatePolicies(conn, [emptyMatch]).allow).toBe(false);
  });
  it('groups OR, rules AND, matches OR — and the trace says which', () => {
    const p = makePolicy({
      name: 'p',
      action: ALLOW,
      groups: [
        { rules: [{ matches: [{ destinationPorts: [1] }] }] },
        {
          rules: [
            { matches: [{ namespaces: [exact('nope')] }, { namespaces: [exact('client-ns')] }] },
            { matches: [{ destinationPorts: [8080] }] },
          ],
        },
      ],
    });
    expect(evaluatePolicies(conn, [p])).toMatchObject({ allow: true, trace: { group: 1, rules: [1, 0] } });
    const strict = makePolicy({
      name: 'q',
      action: ALLOW,
      groups: [{ rules: [{ matches: [{ namespaces: [exact('client-ns')] }] }, { matches: [{ destinationPorts: [1] }] }] }],
    });
    expect(evaluatePolicies(conn, [strict]).allow).toBe(false);
  });
});

describe('decision order', () => {
  const allowNs = makePolicy({ name: 'allow-ns', action: ALLOW, groups: [{ rules: [{ matches: [{ namespaces: [exact('client-ns')] }] }] }] });
  const denyPort = makePolicy({ name: 'deny-port', action: DENY, groups: [{ rules: [{ matches: [{ destinationPorts: [8080] }] }] }] });
  const allowOther = makePolicy({ name: 'allow-other', action: ALLOW, groups: [{ rules: [{ matches: [{ namespaces: [exact('x')] }] }] }] });

  it('no policies -> allow', () => {
    expect(evaluatePolicies(BASE, [])).toEqual({ allow: true, reason: 'NO_ALLOW_POLICIES' });
  });
  it('DENY wins over a matching ALLOW', () => {
    expect(evaluatePolicies(BASE, [allowNs, denyPort])).toMatchObject({ allow: false, reason: 'DENY_POLICY_MATCHED', policy: 'default/deny-port' });
  });
  it('non-matching DENY only -> allow', () => {
    expect(evaluatePolicies({ ...BASE, dstPort: 80 }, [denyPort])).toMatchObject({ allow: true, reason: 'NO_ALLOW_POLICIES' });
  });
  it('once an ALLOW exists, a non-matching connection is denied', () => {
    expect(evaluatePolicies(BASE, [allowOther])).toMatchObject({ allow: false, reason: 'NO_ALLOW_POLICY_MATCHED' });
    expect(evaluatePolicies(BASE, [allowOther, allowNs])).toMatchObject({ allow: true, policy: 'default/allow-ns' });
  });
  it('dry-run policies are reported, never enforced', () => {
    const dryDeny = makePolicy({ name: 'dry-deny', action: DENY, dryRun: true, groups: [{ rules: [] }] });
    const d = evaluatePolicies(BASE, [dryDeny]);
    expect(d.allow).toBe(true);
    expect(d.reason).toBe('NO_ALLOW_POLICIES');
    expect(d.dryRun).toEqual([{ policy: 'default/dry-deny', action: 'DENY', matched: true, trace: { group: 0, rules: [] } }]);
    expect(d.dryRunAllow).toBe(false);
    // A dry-run ALLOW does not flip "no ALLOW policies -> allow".
    const dryAllow = makePolicy({ name: 'dry-allow', action: ALLOW, dryRun: true, groups: [{ rules: [{ matches: [{ destinationPorts: [1] }] }] }] });
    const d2 = evaluatePolicies(BASE, [dryAllow]);
    expect(d2).toMatchObject({ allow: true, reason: 'NO_ALLOW_POLICIES', dryRunAllow: false });
  });
});

describe('STRICT PeerAuthentication (istio_converted_static_strict)', () => {
  const strict = makePolicy({
    name: 'istio_converted_static_strict',
    namespace: 'istio-system',
    scope: security.Scope.GLOBAL,
    action: DENY,
    groups: [{ rules: [{ matches: [{ notPrincipals: [presence()] }] }] }],
  });
  it('denies plaintext (no identity)', () => {
    expect(evaluatePolicies({ ...BASE, srcIdentity: undefined }, [strict])).toMatchObject({
      allow: false,
      policy: 'istio-system/istio_converted_static_strict',
    });
  });
  it('allows mTLS', () => {
    expect(evaluatePolicies(BASE, [strict]).allow).toBe(true);
  });
});

describe('Authorizer applicability over the store', () => {
  function setup(): { state: MeshState; authz: Authorizer } {
    const state = new MeshState();
    const denyAll = { groups: [{ rules: [] }], action: DENY };
    state.applyAuthorizations(
      [
        makePolicy({ name: 'ns-deny', namespace: 'target', scope: security.Scope.NAMESPACE, ...denyAll }),
        makePolicy({ name: 'other-ns-deny', namespace: 'elsewhere', scope: security.Scope.NAMESPACE, ...denyAll }),
        makePolicy({ name: 'sel-deny', namespace: 'target2', scope: security.Scope.WORKLOAD_SELECTOR, ...denyAll }),
        makePolicy({ name: 'global-deny-9', namespace: 'istio-system', scope: security.Scope.GLOBAL, action: DENY, groups: [{ rules: [{ matches: [{ destinationPorts: [9] }] }] }] }),
      ].map((p) => ({ name: `${p.namespace}/${p.name}`, resource: p })),
      [],
    );
    return { state, authz: new Authorizer(state) };
  }
  const conn = (wl: ReturnType<typeof makeWorkload>, port = 80): RbacConnection => ({ ...BASE, dstPort: port, dstWorkload: wl });

  it('NAMESPACE policies apply only in their namespace', () => {
    const { authz } = setup();
    expect(authz.authorize(conn(makeWorkload({ name: 'a', namespace: 'target' })))).toMatchObject({ allow: false, policy: 'target/ns-deny' });
    expect(authz.authorize(conn(makeWorkload({ name: 'b', namespace: 'unrelated' }))).allow).toBe(true);
  });
  it('GLOBAL policies apply everywhere', () => {
    const { authz } = setup();
    expect(authz.authorize(conn(makeWorkload({ name: 'b', namespace: 'unrelated' }), 9))).toMatchObject({ allow: false, policy: 'istio-system/global-deny-9' });
  });
  it('WORKLOAD_SELECTOR policies apply only to workloads that list them', () => {
    const { authz } = setup();
    expect(authz.authorize(conn(makeWorkload({ name: 'c', namespace: 'target2' }))).allow).toBe(true);
    expect(authz.authorize(conn(makeWorkload({ name: 'd', namespace: 'target2', policies: ['target2/sel-deny'] }))).policy).toBe('target2/sel-deny');
  });
  it('sees policy updates and removals (cache invalidated by generation)', () => {
    const { state, authz } = setup();
    const wl = makeWorkload({ name: 'a', namespace: 'target' });
    expect(authz.authorize(conn(wl)).allow).toBe(false);
    state.applyAuthorizations([], ['target/ns-deny']);
    expect(authz.authorize(conn(wl)).allow).toBe(true);
    expect(authz.policiesFor(wl).enforced.map((p) => p.key)).toEqual(['istio-system/global-deny-9']);
  });
});
