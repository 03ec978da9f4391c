import { create, security } from '@mesh/api';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluatePolicies, type RbacConnection } from './authorize';

const str = fc.constantFrom('', 'a', 'client-ns', 'cluster.local/ns/a/sa/b', 'cluster.local/', '/sa/b', 'b', 'ns');
const stringMatch = fc.oneof(
  str.map((v) => create(security.StringMatchSchema, { matchType: { case: 'exact', value: v } })),
  str.map((v) => create(security.StringMatchSchema, { matchType: { case: 'prefix', value: v } })),
  str.map((v) => create(security.StringMatchSchema, { matchType: { case: 'suffix', value: v } })),
  fc.constant(create(security.StringMatchSchema, { matchType: { case: 'presence', value: {} } })),
  fc.constant(create(security.StringMatchSchema, {})),
);
const cidr = fc
  .record({ address: fc.uint8Array({ minLength: 0, maxLength: 17 }), length: fc.integer({ min: 0, max: 300 }) })
  .map((r) => create(security.AddressSchema, r));
const port = fc.oneof(fc.constantFrom(80, 8080, 9), fc.nat({ max: 0x1ffff }));
const sa = fc.record({ namespace: str, serviceAccount: str }).map((r) => create(security.ServiceAccountMatchSchema, r));
const list = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T[]> => fc.array(a, { maxLength: 2 });

const match = fc
  .record({
    namespaces: list(stringMatch),
    notNamespaces: list(stringMatch),
    principals: list(stringMatch),
    notPrincipals: list(stringMatch),
    sourceIps: list(cidr),
    notSourceIps: list(cidr),
    destinationIps: list(cidr),
    notDestinationIps: list(cidr),
    destinationPorts: list(port),
    notDestinationPorts: list(port),
    serviceAccounts: list(sa),
    notServiceAccounts: list(sa),
  })
  .map((m) => create(security.MatchSchema, m));

const policy = (action: fc.Arbitrary<security.Action>): fc.Arbitrary<security.Authorization> =>
  fc
    .record({
      name: fc.string({ maxLength: 4 }),
      action,
      dryRun: fc.boolean(),
      groups: fc.array(fc.record({ rules: fc.array(fc.record({ matches: fc.array(match, { maxLength: 3 }) }), { maxLength: 3 }) }), { maxLength: 3 }),
    })
    .map((p) => create(security.AuthorizationSchema, { ...p, namespace: 'ns', scope: security.Scope.NAMESPACE }));

const anyAction = fc.constantFrom(security.Action.ALLOW, security.Action.DENY);
const ip = fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV4().map((v) => `::ffff:${v}`), fc.constantFrom('garbage', ''));
const conn: fc.Arbitrary<Omit<RbacConnection, 'dstWorkload'>> = fc.record({
  srcIp: ip,
  dstIp: ip,
  dstPort: fc.nat({ max: 65535 }),
  srcIdentity: fc.option(fc.record({ trustDomain: fc.constantFrom('cluster.local', 'td'), namespace: str, serviceAccount: str }), { nil: undefined }),
});

describe('authorization properties', () => {
  it('(a) adding a DENY policy never turns a deny into an allow', () => {
    fc.assert(
      fc.property(fc.array(policy(anyAction), { maxLength: 4 }), policy(fc.constant(security.Action.DENY)), conn, (ps, deny, c) => {
        const before = evaluatePolicies(c, ps);
        const after = evaluatePolicies(c, [...ps, deny]);
        if (!before.allow) expect(after.allow).toBe(false);
      }),
      { numRuns: 400 },
    );
  });

  it('(b) no ALLOW policy and no matching DENY -> allow', () => {
    fc.assert(
      fc.property(fc.array(policy(fc.constant(security.Action.DENY)), { maxLength: 4 }), conn, (ps, c) => {
        const enforced = ps.filter((p) => !p.dryRun);
        const anyDenyMatches = enforced.some((p) => !evaluatePolicies(c, [p]).allow);
        const d = evaluatePolicies(c, ps);
        expect(d.allow).toBe(!anyDenyMatches);
        if (d.allow) expect(d.reason).toBe('NO_ALLOW_POLICIES');
      }),
      { numRuns: 400 },
    );
  });

  it('(c) never throws on arbitrary policies and connections', () => {
    fc.assert(
      fc.property(fc.array(policy(fc.integer({ min: 0, max: 3 }) as fc.Arbitrary<security.Action>), { maxLength: 5 }), conn, (ps, c) => {
        const d = evaluatePolicies(c, ps);
        expect(typeof d.allow).toBe('boolean');
      }),
      { numRuns: 400 },
    );
  });

  it('dry-run policies never change the enforced decision', () => {
    fc.assert(
      fc.property(fc.array(policy(anyAction), { maxLength: 4 }), conn, (ps, c) => {
        const enforcedOnly = ps.filter((p) => !p.dryRun);
        expect(evaluatePolicies(c, ps).allow).toBe(evaluatePolicies(c, enforcedOnly).allow);
      }),
      { numRuns: 300 },
    );
  });
});
