import { create, security, type AuthorizationPolicy, type AuthzRule, type MessageInitShape } from '@mesh/api';
import { parseCidr } from './ip';

type MatchInit = MessageInitShape<typeof security.MatchSchema>;
type RulesInit = MessageInitShape<typeof security.RulesSchema>;
type StringMatchInit = MessageInitShape<typeof security.StringMatchSchema>;

export interface ConvertedPolicy {
  /** Undefined when the policy is not for ztunnel (targetRefs) or cannot be enforced (AUDIT/CUSTOM). */
  readonly authorization?: security.Authorization;
  /** Status message when something was dropped or rejected (Istio's UnsupportedValue condition). */
  readonly warning?: string;
  /** The policy selects workloads by label (WORKLOAD_SELECTOR scope). */
  readonly selector?: Readonly<Record<string, string>>;
}

const DRY_RUN_ANNOTATION = 'istio.io/dry-run';
const L4_WHEN_KEYS = new Set(['source.ip', 'source.namespace', 'source.principal', 'destination.ip', 'destination.port']);

const HTTP_RULE_FMT = (found: string, tail: string): string =>
  `ztunnel does not support HTTP attributes (found: ${found}). In ambient mode you must use a waypoint proxy to enforce HTTP rules. ${tail}`;
const DENY_NO_EFFECT =
  'After omitting unsupported HTTP attributes, this DENY policy has no enforceable rules at ztunnel and will have no effect. Deploy a waypoint proxy and use a targetRef to enforce this policy.';
const DENY_MIXED = 'DENY policy with HTTP attributes is enforced without the HTTP rules. This will be more restrictive than requested.';
const ALLOW_RULE = 'Within an ALLOW policy, rules matching HTTP attributes are omitted. This will be more restrictive than requested.';

/**
 * convertAuthorizationPolicy (I:pilot/pkg/serviceregistry/ambient/authorization.go), field for field:
 * targetRef(s) -> not for ztunnel; no selector -> NAMESPACE (GLOBAL in the root namespace); only ALLOW/DENY;
 * each rule -> Group (to-matches, from-matches, then one Rules per `when`); an ALLOW rule that used any HTTP
 * attribute is dropped entirely (it can never match), a DENY rule keeps its L4 parts and the HTTP parts
 * become empty matches, which ztunnel never matches. Principals are passed through unchanged (Istio does
 * not strip `spiffe://`; ztunnel compares against `td/ns/x/sa/y`).
 */
export function convertAuthorizationPolicy(ap: AuthorizationPolicy, rootNamespace: string): ConvertedPolicy {
  const namespace = ap.metadata.namespace ?? '';
  const spec = ap.spec;
  const dryRunText = ap.metadata.annotations?.[DRY_RUN_ANNOTATION];
  const dryRun = dryRunText !== undefined && ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(dryRunText);
  if (spec.targetRef !== undefined || (spec.targetRefs?.length ?? 0) > 0) return {};
  const selector = spec.selector?.matchLabels;
  const scope = spec.selector !== undefined ? security.Scope.WORKLOAD_SELECTOR : namespace === rootNamespace ? security.Scope.GLOBAL : security.Scope.NAMESPACE;
  const actionName = spec.action ?? 'ALLOW';
  if (actionName !== 'ALLOW' && actionName !== 'DENY') {
    return { warning: `ztunnel does not support the ${actionName} action` };
  }
  const action = actionName === 'DENY' ? security.Action.DENY : security.Action.ALLOW;
  const groups: { rules: RulesInit[] }[] = [];
  const l7 = new Set<string>();
  for (const rule of spec.rules ?? []) {
    const rules = convertRule(action, rule, namespace, l7);
    if (rules !== undefined) groups.push({ rules });
  }
  const authorization = create(security.AuthorizationSchema, { name: ap.metadata.name, namespace, scope, action, groups, dryRun });
  const base = { authorization, ...(selector !== undefined && spec.selector !== undefined ? { selector } : {}) };
  if (l7.size === 0) return base;
  const tail = action === security.Action.DENY ? (hasEffectiveRules(authorization.groups) ? DENY_MIXED : DENY_NO_EFFECT) : ALLOW_RULE;
  return { ...base, warning: HTTP_RULE_FMT([...l7].sort().join(', '), tail) };
}

function convertRule(action: security.Action, rule: AuthzRule, ruleNamespace: string, l7: Set<string>): RulesInit[] | undefined {
  let foundL7 = false;
  const note = (present: boolean, name: string): void => {
    if (present) {
      foundL7 = true;
      l7.add(name);
    }
  };
  const toMatches: MatchInit[] = (rule.to ?? []).map(({ operation: op }) => {
    for (const f of ['hosts', 'notHosts', 'methods', 'notMethods', 'paths', 'notPaths'] as const) note((op[f]?.length ?? 0) > 0, f);
    return { destinationPorts: toPorts(op.ports), notDestinationPorts: toPorts(op.notPorts) };
  });
  const fromMatches: MatchInit[] = (rule.from ?? []).map(({ source: s }) => {
    for (const f of ['remoteIpBlocks', 'notRemoteIpBlocks', 'requestPrincipals', 'notRequestPrincipals'] as const) note((s[f]?.length ?? 0) > 0, f);
    return {
      sourceIps: toIps(s.ipBlocks),
      notSourceIps: toIps(s.notIpBlocks),
      namespaces: toStringMatches(s.namespaces),
      notNamespaces: toStringMatches(s.notNamespaces),
      serviceAccounts: toServiceAccounts(s.serviceAccounts, ruleNamespace),
      notServiceAccounts: toServiceAccounts(s.notServiceAccounts, ruleNamespace),
      principals: toStringMatches(s.principals),
      notPrincipals: toStringMatches(s.notPrincipals),
    };
  });
  const rules: RulesInit[] = [];
  if (toMatches.length > 0) rules.push({ matches: toMatches });
  if (fromMatches.length > 0) rules.push({ matches: fromMatches });
  for (const when of rule.when ?? []) {
    note(!L4_WHEN_KEYS.has(when.key), when.key);
    rules.push({ matches: [whenMatch(when.key, when.values ?? [], when.notValues ?? [])] });
  }
  // "L7 policies never match for ALLOW"; for DENY the empty matches stay and ztunnel skips them.
  return action === security.Action.ALLOW && foundL7 ? undefined : rules;
}

function whenMatch(key: string, values: string[], notValues: string[]): MatchInit {
  switch (key) {
    case 'source.namespace':
      return { namespaces: toStringMatches(values), notNamespaces: toStringMatches(notValues) };
    case 'source.principal':
      return { principals: toStringMatches(values), notPrincipals: toStringMatches(notValues) };
    case 'source.ip':
      return { sourceIps: toIps(values), notSourceIps: toIps(notValues) };
    case 'destination.port':
      return { destinationPorts: toPorts(values), notDestinationPorts: toPorts(notValues) };
    case 'destination.ip':
      return { destinationIps: toIps(values), notDestinationIps: toIps(notValues) };
    default:
      return {};
  }
}

/** stringToMatch: `*` presence, `*x` suffix, `x*` prefix, else exact. */
export function toStringMatches(values: readonly string[] | undefined): StringMatchInit[] {
  return (values ?? []).map((v): StringMatchInit => {
    if (v === '*') return { matchType: { case: 'presence', value: {} } };
    if (v.startsWith('*')) return { matchType: { case: 'suffix', value: v.slice(1) } };
    if (v.endsWith('*')) return { matchType: { case: 'prefix', value: v.slice(0, -1) } };
    return { matchType: { case: 'exact', value: v } };
  });
}

/** stringToPort: decimal 0..65535, anything else silently skipped. */
function toPorts(values: readonly string[] | undefined): number[] {
  const out: number[] = [];
  for (const v of values ?? []) {
    if (!/^\d+$/.test(v)) continue;
    const n = Number(v);
    if (n <= 65535) out.push(n);
  }
  return out;
}

/** stringToIP: CIDR or host address, unparsable entries skipped. Go's netip keeps the address unmasked. */
function toIps(values: readonly string[] | undefined): MessageInitShape<typeof security.AddressSchema>[] {
  const out: MessageInitShape<typeof security.AddressSchema>[] = [];
  for (const v of values ?? []) {
    if (v === '') continue;
    const c = parseCidr(v);
    if (c === undefined) continue;
    out.push({ address: v.includes('/') ? unmasked(v, c.address) : c.address, length: c.length });
  }
  return out;
}

function unmasked(v: string, masked: Uint8Array): Uint8Array {
  return parseCidr(v.slice(0, v.indexOf('/')))?.address ?? masked;
}

/** stringToServiceAccountMatch: `ns/sa`, or `sa` in the policy's namespace. */
function toServiceAccounts(values: readonly string[] | undefined, ruleNamespace: string): MessageInitShape<typeof security.ServiceAccountMatchSchema>[] {
  return (values ?? []).map((v) => {
    const slash = v.indexOf('/');
    return slash >= 0 ? { namespace: v.slice(0, slash), serviceAccount: v.slice(slash + 1) } : { namespace: ruleNamespace, serviceAccount: v };
  });
}

function isMatchEmpty(m: security.Match): boolean {
  return (
    m.namespaces.length + m.notNamespaces.length + m.principals.length + m.notPrincipals.length + m.sourceIps.length + m.notSourceIps.length +
      m.destinationIps.length + m.notDestinationIps.length + m.destinationPorts.length + m.notDestinationPorts.length +
      m.serviceAccounts.length + m.notServiceAccounts.length ===
    0
  );
}

/** hasEffectiveRules: some group whose every clause has a non-empty match (or a group with no clauses). */
function hasEffectiveRules(groups: readonly security.Group[]): boolean {
  return groups.some((g) => g.rules.length === 0 || g.rules.every((r) => r.matches.some((m) => !isMatchEmpty(m))));
}
