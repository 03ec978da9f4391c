// Precompiles istio.security.Authorization into a structure that is cheap to evaluate per connection: CIDRs
// parsed once, string matches flattened, empty matches flagged. The conversion mirrors ztunnel's
// `TryFrom<XdsRbac> for Authorization` / `TryFrom<&Match> for RbacMatch` (Z:src/rbac.rs):
// - a StringMatch with no match_type is dropped (`filter_map`);
// - a CIDR whose address is not 4/16 bytes or whose prefix is too long is dropped (`.try_into().ok()`);
// - ports are truncated to u16 (`*p as u16`);
// - emptiness of a Match is judged AFTER those drops (ztunnel checks `RbacMatch::is_empty` on the converted form).
import { security, type Authorization } from '@mesh/api';
import { policyKey } from '../state/index';

export const enum StrKind {
  Exact = 0,
  Prefix = 1,
  Suffix = 2,
  Presence = 3,
}

export interface StrMatch {
  readonly kind: StrKind;
  readonly value: string;
}

export interface Cidr {
  readonly v6: boolean;
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

export interface SaMatch {
  readonly namespace: string;
  readonly serviceAccount: string;
}

export interface CompiledMatch {
  /** Position in the original Rules.matches (for explanations). */
  readonly index: number;
  readonly namespaces: readonly StrMatch[];
  readonly notNamespaces: readonly StrMatch[];
  readonly principals: readonly StrMatch[];
  readonly notPrincipals: readonly StrMatch[];
  readonly serviceAccounts: readonly SaMatch[];
  readonly notServiceAccounts: readonly SaMatch[];
  readonly sourceIps: readonly Cidr[];
  readonly notSourceIps: readonly Cidr[];
  readonly destinationIps: readonly Cidr[];
  readonly notDestinationIps: readonly Cidr[];
  readonly destinationPorts: readonly number[];
  readonly notDestinationPorts: readonly number[];
}

/** One `Rules` (ztunnel: clause): matches OR-ed. `unconditional` when it had no matches at all. */
export interface CompiledRule {
  readonly unconditional: boolean;
  /** Only the non-empty matches: ztunnel skips empty ones (`if mg.is_empty() { continue }`). */
  readonly matches: readonly CompiledMatch[];
}

/** One `Group` (ztunnel: rule): its rules AND-ed; zero rules matches everything. */
export interface CompiledGroup {
  readonly rules: readonly CompiledRule[];
}

export interface CompiledPolicy {
  readonly key: string;
  readonly name: string;
  readonly namespace: string;
  readonly scope: security.Scope;
  readonly action: security.Action;
  readonly dryRun: boolean;
  /** Groups OR-ed; zero groups never matches (`if self.rules.is_empty() { return false }`). */
  readonly groups: readonly CompiledGroup[];
}

const IPV4_BITS = 32;
const IPV6_BITS = 128;
const compiled = new WeakMap<Authorization, CompiledPolicy>();

/** Compile (memoised per Authorization object: the store replaces objects on update). */
export function compilePolicy(p: Authorization): CompiledPolicy {
  let c = compiled.get(p);
  if (c === undefined) {
    c = Object.freeze({
      key: policyKey(p),
      name: p.name,
      namespace: p.namespace,
      scope: p.scope,
      action: p.action,
      dryRun: p.dryRun,
      groups: p.groups.map((g) => ({ rules: g.rules.map(compileRule) })),
    });
    compiled.set(p, c);
  }
  return c;
}

function compileRule(r: security.Rules): CompiledRule {
  const matches: CompiledMatch[] = [];
  r.matches.forEach((m, i) => {
    const cm = compileMatch(m, i);
    if (!isEmpty(cm)) matches.push(cm);
  });
  return { unconditional: r.matches.length === 0, matches };
}

function compileMatch(m: security.Match, index: number): CompiledMatch {
  return {
    index,
    namespaces: strMatches(m.namespaces),
    notNamespaces: strMatches(m.notNamespaces),
    principals: strMatches(m.principals),
    notPrincipals: strMatches(m.notPrincipals),
    serviceAccounts: m.serviceAccounts.map(saMatch),
    notServiceAccounts: m.notServiceAccounts.map(saMatch),
    sourceIps: cidrs(m.sourceIps),
    notSourceIps: cidrs(m.notSourceIps),
    destinationIps: cidrs(m.destinationIps),
    notDestinationIps: cidrs(m.notDestinationIps),
    destinationPorts: m.destinationPorts.map((p) => p & 0xffff),
    notDestinationPorts: m.notDestinationPorts.map((p) => p & 0xffff),
  };
}

function isEmpty(m: CompiledMatch): boolean {
  return (
    m.namespaces.length === 0 &&
    m.notNamespaces.length === 0 &&
    m.principals.length === 0 &&
    m.notPrincipals.length === 0 &&
    m.serviceAccounts.length === 0 &&
    m.notServiceAccounts.length === 0 &&
    m.sourceIps.length === 0 &&
    m.notSourceIps.length === 0 &&
    m.destinationIps.length === 0 &&
    m.notDestinationIps.length === 0 &&
    m.destinationPorts.length === 0 &&
    m.notDestinationPorts.length === 0
  );
}

function saMatch(s: security.ServiceAccountMatch): SaMatch {
  return { namespace: s.namespace, serviceAccount: s.serviceAccount };
}

function strMatches(list: readonly security.StringMatch[]): StrMatch[] {
  const out: StrMatch[] = [];
  for (const s of list) {
    const t = s.matchType;
    switch (t.case) {
      case 'exact':
        out.push({ kind: StrKind.Exact, value: t.value });
        break;
      case 'prefix':
        out.push({ kind: StrKind.Prefix, value: t.value });
        break;
      case 'suffix':
        out.push({ kind: StrKind.Suffix, value: t.value });
        break;
      case 'presence':
        out.push({ kind: StrKind.Presence, value: '' });
        break;
      default:
        break; // no match_type: dropped, as ztunnel's `filter_map`
    }
  }
  return out;
}

function cidrs(list: readonly security.Address[]): Cidr[] {
  const out: Cidr[] = [];
  for (const a of list) {
    const c = parseCidr(a.address, a.length);
    if (c !== undefined) out.push(c);
  }
  return out;
}

/**
 * ipnet `IpNet::new(byte_to_ip(addr)?, len as u8)`: 4 bytes -> v4, 16 bytes -> v6 (a v4-mapped v6 CIDR stays v6,
 * so it never contains a canonical v4 peer — as in ztunnel). Host bits are ignored by `contains`.
 */
export function parseCidr(address: Uint8Array, length: number): Cidr | undefined {
  if (address.length !== 4 && address.length !== 16) return undefined;
  const v6 = address.length === 16;
  const prefix = length & 0xff; // `as u8`
  if (prefix > (v6 ? IPV6_BITS : IPV4_BITS)) return undefined;
  return { v6, bytes: Uint8Array.from(address), prefix };
}

/** Whether canonical peer bytes (4 or 16) fall in the CIDR; families must agree. */
export function cidrContains(c: Cidr, ip: Uint8Array): boolean {
  if ((ip.length === 16) !== c.v6) return false;
  const full = c.prefix >> 3;
  for (let i = 0; i < full; i++) if (c.bytes[i] !== ip[i]) return false;
  const rem = c.prefix & 7;
  if (rem === 0) return true;
  const mask = (0xff << (8 - rem)) & 0xff;
  return ((c.bytes[full] as number) & mask) === ((ip[full] as number) & mask);
}
