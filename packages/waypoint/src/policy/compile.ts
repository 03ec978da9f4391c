import { waypoint } from '@mesh/api';
import type { AuthorizationPolicy, AuthzOperation, AuthzRule, AuthzSource } from '../config/types';
import { compileCondition, type ConditionTest } from './conditions';
import { compileIpSet } from './ip';
import type { AuthzView } from './request';
import { compileAny, compileWildcard } from './wildcard';

type Check = (view: AuthzView) => boolean;

export interface CompiledRule {
  readonly index: number;
  /** Any entry must hold; empty = no constraint. */
  readonly from: readonly (readonly Check[])[];
  readonly to: readonly (readonly Check[])[];
  readonly when: readonly ConditionTest[];
}

export interface CompiledPolicy {
  readonly policy: AuthorizationPolicy;
  readonly rules: readonly CompiledRule[];
}

export interface CompiledPolicies {
  readonly deny: readonly CompiledPolicy[];
  readonly allow: readonly CompiledPolicy[];
  readonly audit: readonly CompiledPolicy[];
  /** Entries that could not be compiled (they only ever narrow ALLOW / widen DENY). */
  readonly problems: readonly string[];
}

function pair(checks: Check[], pos: readonly string[], neg: readonly string[], build: (p: readonly string[]) => Check): void {
  if (pos.length > 0) checks.push(build(pos));
  if (neg.length > 0) {
    const c = build(neg);
    checks.push((v) => !c(v));
  }
}

function compileSource(s: AuthzSource, problems: string[]): Check[] {
  const checks: Check[] = [];
  const req = { required: true };
  pair(checks, s.principals, s.notPrincipals, (p) => { const t = compileAny(p, req); return (v) => t(v.principal()); });
  pair(checks, s.requestPrincipals, s.notRequestPrincipals, (p) => { const t = compileAny(p, req); return (v) => t(v.req.requestPrincipal || undefined); });
  pair(checks, s.namespaces, s.notNamespaces, (p) => { const t = compileAny(p, req); return (v) => t(v.namespace()); });
  pair(checks, s.serviceAccounts, s.notServiceAccounts, (p) => { const t = compileAny(p, req); return (v) => t(v.serviceAccount()); });
  pair(checks, s.ipBlocks, s.notIpBlocks, (p) => { const t = compileIpSet(p, problems); return (v) => t(v.req.sourceIp); });
  pair(checks, s.remoteIpBlocks, s.notRemoteIpBlocks, (p) => { const t = compileIpSet(p, problems); return (v) => t(v.remoteIp()); });
  return checks;
}

const PORT_SUFFIX = /:\d+$/;

/** Host without its port ("[::1]:80" -> "[::1]", "a.b:80" -> "a.b"). */
export function stripPort(authority: string): string {
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    return end < 0 ? authority : authority.slice(0, end + 1);
  }
  const c = authority.indexOf(':');
  return c < 0 || authority.indexOf(':', c + 1) >= 0 ? authority : authority.slice(0, c);
}

/**
 * Hosts match case-insensitively; a pattern without a port matches the authority with or
 * without one (Istio's host matcher accepts an optional ":port").
 */
function compileHosts(patterns: readonly string[]): Check {
  const tests = patterns.map((p) => ({ test: compileWildcard(p, { ignoreCase: true }), withPort: PORT_SUFFIX.test(p) && !p.endsWith(']') }));
  return (v) => {
    const a = v.req.authority.toLowerCase();
    const bare = stripPort(a);
    for (const t of tests) if (t.test(t.withPort ? a : bare)) return true;
    return false;
  };
}

function compileOperation(o: AuthzOperation): Check[] {
  const checks: Check[] = [];
  pair(checks, o.hosts, o.notHosts, compileHosts);
  pair(checks, o.ports, o.notPorts, (p) => { const set = new Set(p); return (v) => set.has(String(v.req.port)); });
  pair(checks, o.methods, o.notMethods, (p) => { const t = compileAny(p); return (v) => t(v.req.method); });
  pair(checks, o.paths, o.notPaths, (p) => {
    const t = compileAny(p, { pathTemplates: true });
    return (v) => t(v.path() ?? undefined);
  });
  return checks;
}

function compileRule(rule: AuthzRule, index: number, isDeny: boolean, problems: string[]): CompiledRule {
  return {
    index,
    from: rule.from.map((s) => compileSource(s, problems)),
    to: rule.to.map((o) => compileOperation(o)),
    when: rule.when.map((c) => compileCondition(c, isDeny, problems)),
  };
}

/** Compiles once per config update; the result is evaluated per request by authorizeHttp. */
export function compilePolicies(policies: readonly AuthorizationPolicy[]): CompiledPolicies {
  const problems: string[] = [];
  const out = { deny: [] as CompiledPolicy[], allow: [] as CompiledPolicy[], audit: [] as CompiledPolicy[], problems };
  const A = waypoint.AuthorizationPolicy_Action;
  for (const policy of policies) {
    const local: string[] = [];
    const compiled = { policy, rules: policy.rules.map((r, i) => compileRule(r, i, policy.action === A.DENY, local)) };
    for (const p of local) problems.push(`${policy.name}: ${p}`);
    if (policy.action === A.DENY) out.deny.push(compiled);
    else if (policy.action === A.ALLOW) out.allow.push(compiled);
    else if (policy.action === A.AUDIT) out.audit.push(compiled);
    else problems.push(`${policy.name}: CUSTOM authorization is not supported by this waypoint; policy ignored`);
  }
  return out;
}
