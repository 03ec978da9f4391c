// The L4 authorization decision of ztunnel (Z:src/state.rs `assert_rbac`), which follows
// https://istio.io/latest/docs/reference/config/security/authorization-policy/ :
//   1. any matching DENY policy -> deny;
//   2. no ALLOW policy applies -> allow;
//   3. any matching ALLOW policy -> allow;
//   4. otherwise deny.
// Applicable policies = NAMESPACE scope in the destination workload's namespace + all GLOBAL + those the workload
// lists in `authorization_policies` (WORKLOAD_SELECTOR). Dry-run policies are evaluated and reported, never enforced.
import { security, type Authorization, type Workload } from '@mesh/api';
import { GLOBAL_POLICY_NAMESPACE, type SpiffeIdentity } from '../state/index';
import { compilePolicy, type CompiledPolicy } from './compile';
import { connFacts, policyMatches, type ConnFacts, type MatchTrace } from './match';

export interface RbacConnection {
  readonly srcIp: string;
  /** Peer identity from the mTLS handshake; absent for plaintext (15006) connections. */
  readonly srcIdentity?: SpiffeIdentity | undefined;
  readonly dstIp: string;
  readonly dstPort: number;
  readonly dstWorkload: Workload;
}

export type AuthorizationReason = 'DENY_POLICY_MATCHED' | 'NO_ALLOW_POLICIES' | 'ALLOW_POLICY_MATCHED' | 'NO_ALLOW_POLICY_MATCHED';

export interface DryRunResult {
  readonly policy: string;
  readonly action: 'ALLOW' | 'DENY';
  readonly matched: boolean;
  readonly trace?: MatchTrace;
}

export interface AuthorizationDecision {
  readonly allow: boolean;
  readonly reason: AuthorizationReason;
  /** `namespace/name` of the policy that decided (DENY or ALLOW match). */
  readonly policy?: string;
  /** Which group of that policy matched and which Match of each of its rules. */
  readonly trace?: MatchTrace;
  /** Dry-run policies that apply: what they would have done. Present only when there are some. */
  readonly dryRun?: readonly DryRunResult[];
  /** The decision had the dry-run policies been enforced too (only with `dryRun`). */
  readonly dryRunAllow?: boolean;
}

/** What the authorizer needs from the state store (MeshState satisfies it). */
export interface PolicySource {
  readonly generation: number;
  readonly policies: {
    get(key: string): Authorization | undefined;
    keysForNamespace(namespace: string): ReadonlySet<string>;
  };
}

interface Applicable {
  readonly generation: number;
  readonly deny: readonly CompiledPolicy[];
  readonly allow: readonly CompiledPolicy[];
  readonly dryRun: readonly CompiledPolicy[];
}

export interface ApplicablePolicies {
  readonly enforced: readonly CompiledPolicy[];
  readonly dryRun: readonly CompiledPolicy[];
}

/** Decide over an explicit list of policies (already known to apply). Pure; never throws on valid protos. */
export function evaluatePolicies(conn: Omit<RbacConnection, 'dstWorkload'>, policies: readonly Authorization[]): AuthorizationDecision {
  const enforced: CompiledPolicy[] = [];
  const dryRun: CompiledPolicy[] = [];
  for (const p of policies) (p.dryRun ? dryRun : enforced).push(compilePolicy(p));
  const facts = connFacts(conn.srcIp, conn.dstIp, conn.dstPort, conn.srcIdentity);
  return decide(facts, split(enforced), dryRun);
}

function split(list: readonly CompiledPolicy[]): { deny: CompiledPolicy[]; allow: CompiledPolicy[] } {
  const deny: CompiledPolicy[] = [];
  const allow: CompiledPolicy[] = [];
  for (const p of list) (p.action === security.Action.ALLOW ? allow : deny).push(p);
  return { deny, allow };
}

function enforce(facts: ConnFacts, deny: readonly CompiledPolicy[], allow: readonly CompiledPolicy[]): AuthorizationDecision {
  for (const p of deny) {
    const trace = policyMatches(p, facts);
    if (trace !== undefined) return { allow: false, reason: 'DENY_POLICY_MATCHED', policy: p.key, trace };
  }
  if (allow.length === 0) return { allow: true, reason: 'NO_ALLOW_POLICIES' };
  for (const p of allow) {
    const trace = policyMatches(p, facts);
    if (trace !== undefined) return { allow: true, reason: 'ALLOW_POLICY_MATCHED', policy: p.key, trace };
  }
  return { allow: false, reason: 'NO_ALLOW_POLICY_MATCHED' };
}

function decide(
  facts: ConnFacts,
  enforced: { deny: readonly CompiledPolicy[]; allow: readonly CompiledPolicy[] },
  dryRun: readonly CompiledPolicy[],
): AuthorizationDecision {
  const d = enforce(facts, enforced.deny, enforced.allow);
  if (dryRun.length === 0) return d;
  const results: DryRunResult[] = dryRun.map((p) => {
    const trace = policyMatches(p, facts);
    const action = p.action === security.Action.ALLOW ? 'ALLOW' : 'DENY';
    return trace === undefined ? { policy: p.key, action, matched: false } : { policy: p.key, action, matched: true, trace };
  });
  const all = split([...enforced.deny, ...enforced.allow, ...dryRun]);
  return { ...d, dryRun: results, dryRunAllow: enforce(facts, all.deny, all.allow).allow };
}

/** Authorizes connections against the live policy store; applicable sets are cached per workload object. */
export class Authorizer {
  private readonly cache = new WeakMap<Workload, Applicable>();

  constructor(private readonly source: PolicySource) {}

  authorize(conn: RbacConnection): AuthorizationDecision {
    const a = this.applicable(conn.dstWorkload);
    const facts = connFacts(conn.srcIp, conn.dstIp, conn.dstPort, conn.srcIdentity);
    return decide(facts, a, a.dryRun);
  }

  /** The policies that apply to a workload, in evaluation order (for explain / config dumps). */
  policiesFor(wl: Workload): ApplicablePolicies {
    const a = this.applicable(wl);
    return { enforced: [...a.deny, ...a.allow], dryRun: a.dryRun };
  }

  private applicable(wl: Workload): Applicable {
    const gen = this.source.generation;
    const hit = this.cache.get(wl);
    if (hit !== undefined && hit.generation === gen) return hit;
    const seen = new Set<string>();
    const deny: CompiledPolicy[] = [];
    const allow: CompiledPolicy[] = [];
    const dryRun: CompiledPolicy[] = [];
    const add = (key: string): void => {
      if (seen.has(key)) return;
      seen.add(key);
      const p = this.source.policies.get(key);
      if (p === undefined) return; // not (yet) sent by istiod: ztunnel skips unknown keys
      const c = compilePolicy(p);
      if (c.dryRun) dryRun.push(c);
      else (c.action === security.Action.ALLOW ? allow : deny).push(c);
    };
    for (const k of this.source.policies.keysForNamespace(wl.namespace)) add(k);
    for (const k of this.source.policies.keysForNamespace(GLOBAL_POLICY_NAMESPACE)) add(k);
    for (const k of wl.authorizationPolicies) add(k);
    const a: Applicable = { generation: gen, deny, allow, dryRun };
    this.cache.set(wl, a);
    return a;
  }
}
