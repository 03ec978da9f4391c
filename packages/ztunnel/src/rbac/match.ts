// Evaluation of one compiled policy against a connection, exactly as `Authorization::matches` in Z:src/rbac.rs:
// groups OR; within a group every rule must match (AND); within a rule any non-empty Match (OR); within a Match
// every field kind present must match (AND) — any positive value, and no `not_*` value.
import { canonicalBytes, parseIp, principalOf, type SpiffeIdentity } from '../state/index';
import { cidrContains, StrKind, type Cidr, type CompiledMatch, type CompiledPolicy, type SaMatch, type StrMatch } from './compile';

/** Connection facts, derived once per authorize() call. */
export interface ConnFacts {
  readonly identity: SpiffeIdentity | undefined;
  /** Identity without `spiffe://`; undefined when there is no identity (principal matches then always fail). */
  readonly principal: string | undefined;
  /** Source namespace, "" without identity (ztunnel `unwrap_or_default`). */
  readonly namespace: string;
  readonly src: Uint8Array | undefined;
  readonly dst: Uint8Array | undefined;
  readonly dstPort: number;
}

/** Which group matched and, per rule of it, which Match index matched (-1 = rule with no matches). */
export interface MatchTrace {
  readonly group: number;
  readonly rules: readonly number[];
}

export function connFacts(srcIp: string, dstIp: string, dstPort: number, identity: SpiffeIdentity | undefined): ConnFacts {
  const src = parseIp(srcIp);
  const dst = parseIp(dstIp);
  return {
    identity,
    principal: identity === undefined ? undefined : principalOf(identity),
    namespace: identity?.namespace ?? '',
    // ztunnel compares canonical socket addresses (`to_canonical`): v4-mapped peers are plain v4.
    src: src === undefined ? undefined : canonicalBytes(src),
    dst: dst === undefined ? undefined : canonicalBytes(dst),
    dstPort,
  };
}

function strMatches(m: StrMatch, s: string): boolean {
  switch (m.kind) {
    case StrKind.Exact:
      return s === m.value;
    case StrKind.Prefix:
      return s.startsWith(m.value);
    case StrKind.Suffix:
      return s.endsWith(m.value);
    case StrKind.Presence:
      return s !== '';
  }
}

/** `StringMatch::matches_principal`: no `spiffe://` identity -> no match, whatever the matcher. */
function anyPrincipal(list: readonly StrMatch[], principal: string | undefined): boolean {
  if (principal === undefined) return false;
  for (const m of list) if (strMatches(m, principal)) return true;
  return false;
}

function anyString(list: readonly StrMatch[], s: string): boolean {
  for (const m of list) if (strMatches(m, s)) return true;
  return false;
}

function anySa(list: readonly SaMatch[], id: SpiffeIdentity | undefined): boolean {
  if (id === undefined) return false;
  for (const m of list) if (m.namespace === id.namespace && m.serviceAccount === id.serviceAccount) return true;
  return false;
}

function anyCidr(list: readonly Cidr[], ip: Uint8Array | undefined): boolean {
  if (ip === undefined) return false;
  for (const c of list) if (cidrContains(c, ip)) return true;
  return false;
}

// Each field kind follows ztunnel `matches_internal`: an empty positive list passes, a non-empty one needs a hit;
// an empty negative list passes, a non-empty one needs no hit. Written without closures: this runs per connection.
export function matchMatches(m: CompiledMatch, c: ConnFacts): boolean {
  if (m.destinationIps.length > 0 && !anyCidr(m.destinationIps, c.dst)) return false;
  if (m.notDestinationIps.length > 0 && anyCidr(m.notDestinationIps, c.dst)) return false;
  if (m.sourceIps.length > 0 && !anyCidr(m.sourceIps, c.src)) return false;
  if (m.notSourceIps.length > 0 && anyCidr(m.notSourceIps, c.src)) return false;
  if (m.destinationPorts.length > 0 && !m.destinationPorts.includes(c.dstPort)) return false;
  if (m.notDestinationPorts.length > 0 && m.notDestinationPorts.includes(c.dstPort)) return false;
  if (m.serviceAccounts.length > 0 && !anySa(m.serviceAccounts, c.identity)) return false;
  if (m.notServiceAccounts.length > 0 && anySa(m.notServiceAccounts, c.identity)) return false;
  if (m.principals.length > 0 && !anyPrincipal(m.principals, c.principal)) return false;
  if (m.notPrincipals.length > 0 && anyPrincipal(m.notPrincipals, c.principal)) return false;
  if (m.namespaces.length > 0 && !anyString(m.namespaces, c.namespace)) return false;
  if (m.notNamespaces.length > 0 && anyString(m.notNamespaces, c.namespace)) return false;
  return true;
}

/** The trace of the first matching group, or undefined when the policy does not match. */
export function policyMatches(p: CompiledPolicy, c: ConnFacts): MatchTrace | undefined {
  for (let g = 0; g < p.groups.length; g++) {
    const rules = (p.groups[g] as CompiledPolicy['groups'][number]).rules;
    const trace: number[] = [];
    let ok = true;
    for (const rule of rules) {
      if (rule.unconditional) {
        trace.push(-1);
        continue;
      }
      let hit = -1;
      for (const m of rule.matches) {
        if (matchMatches(m, c)) {
          hit = m.index;
          break;
        }
      }
      if (hit < 0) {
        ok = false;
        break;
      }
      trace.push(hit);
    }
    if (ok) return { group: g, rules: trace };
  }
  return undefined;
}
