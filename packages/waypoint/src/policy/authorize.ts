import type { AuthorizationPolicy, Source } from '../config/types';
import { compilePolicies, type CompiledPolicies, type CompiledPolicy, type CompiledRule } from './compile';
import { AuthzView, type AuthzRequest } from './request';

/** Envoy's RBAC filter reply, which Istio users see on a denied request. */
export const RBAC_DENIED_STATUS = 403;
export const RBAC_DENIED_BODY = 'RBAC: access denied';

export interface PolicyRef {
  readonly policy: string;
  readonly rule: number;
  readonly source: Source | undefined;
}

export type AuthzReason = 'no-allow-policies' | 'allow-policy-matched' | 'deny-policy-matched' | 'no-allow-policy-matched';

export interface AuthzDecision {
  readonly allow: boolean;
  /** 403 when denied; 0 when allowed. */
  readonly status: number;
  readonly body: string;
  readonly reason: AuthzReason;
  /** The policy and rule that decided; absent when no policy matched. */
  readonly decidedBy?: PolicyRef;
  /** AUDIT policies whose rules matched (logged, never affect the decision). */
  readonly audited: readonly PolicyRef[];
}

function someCheck(entries: readonly (readonly ((v: AuthzView) => boolean)[])[], view: AuthzView): boolean {
  if (entries.length === 0) return true;
  outer: for (const checks of entries) {
    for (const c of checks) if (!c(view)) continue outer;
    return true;
  }
  return false;
}

function ruleMatches(rule: CompiledRule, view: AuthzView): boolean {
  if (!someCheck(rule.from, view) || !someCheck(rule.to, view)) return false;
  for (const w of rule.when) if (!w(view)) return false;
  return true;
}

function firstMatch(policies: readonly CompiledPolicy[], view: AuthzView): PolicyRef | undefined {
  for (const p of policies) {
    for (const r of p.rules) {
      if (ruleMatches(r, view)) return { policy: p.policy.name, rule: r.index, source: p.policy.source };
    }
  }
  return undefined;
}

const cache = new WeakMap<readonly AuthorizationPolicy[], CompiledPolicies>();

function compiled(policies: CompiledPolicies | readonly AuthorizationPolicy[]): CompiledPolicies {
  if (!Array.isArray(policies)) return policies as CompiledPolicies;
  const list = policies as readonly AuthorizationPolicy[];
  let c = cache.get(list);
  if (c === undefined) {
    c = compilePolicies(list);
    cache.set(list, c);
  }
  return c;
}

/**
 * Istio's L7 evaluation order (CUSTOM is not supported here): any matching DENY rule denies;
 * otherwise, when ALLOW policies apply, one of their rules must match; with no ALLOW policy the
 * request is allowed. AUDIT policies are only reported. A policy without rules matches nothing, so
 * an ALLOW policy with no rules denies everything (allow-nothing).
 * Paths are compared after Istio's default BASE normalisation; callers should reject requests
 * whose path fails normalizePathBase with 400 before calling this.
 */
export function authorizeHttp(policies: CompiledPolicies | readonly AuthorizationPolicy[], req: AuthzRequest): AuthzDecision {
  const set = compiled(policies);
  const view = new AuthzView(req);
  const audited: PolicyRef[] = [];
  for (const p of set.audit) {
    for (const r of p.rules) if (ruleMatches(r, view)) audited.push({ policy: p.policy.name, rule: r.index, source: p.policy.source });
  }
  const denied = firstMatch(set.deny, view);
  if (denied !== undefined) {
    return { allow: false, status: RBAC_DENIED_STATUS, body: RBAC_DENIED_BODY, reason: 'deny-policy-matched', decidedBy: denied, audited };
  }
  if (set.allow.length === 0) return { allow: true, status: 0, body: '', reason: 'no-allow-policies', audited };
  const allowed = firstMatch(set.allow, view);
  if (allowed !== undefined) return { allow: true, status: 0, body: '', reason: 'allow-policy-matched', decidedBy: allowed, audited };
  return { allow: false, status: RBAC_DENIED_STATUS, body: RBAC_DENIED_BODY, reason: 'no-allow-policy-matched', audited };
}
