import { renderAdd, type TableRules } from './rule-set';
import { ruleTarget, type SavedTable } from './save-parser';

/**
 * Builds one atomic iptables-restore (--noflush) transaction that moves a table from its `current`
 * state to `desired` (undefined = remove all of ours), touching only chains in `ownedChains`
 * and the jumps into them. Returns undefined when nothing needs to change.
 *
 * Why one transaction: a table commit is all-or-nothing, so a pod is never left half-redirected
 * and re-applying is safe (existing jumps are deleted in the same commit that re-adds them).
 * Declaring an existing chain (`:C - [0:0]`) with --noflush flushes it, on both backends.
 */
export function buildTableTransaction(
  table: string,
  desired: TableRules | undefined,
  current: SavedTable | undefined,
  ownedChains: readonly string[],
): string | undefined {
  if (desired && tableMatches(desired, current, ownedChains)) return undefined;
  const present = new Set(current?.chains.filter((c) => ownedChains.includes(c)) ?? []);
  const wanted = new Set(desired?.ownedChains ?? []);
  if (!desired && present.size === 0 && !hasJumpsInto(current, ownedChains)) return undefined;

  const lines = [`*${table}`];
  for (const c of wanted) lines.push(`:${c} - [0:0]`);
  // Every existing jump into one of our chains, from a chain we do not own, goes: this removes
  // duplicates and jumps left by an older configuration alike.
  for (const r of current?.rules ?? []) {
    const target = ruleTarget(r.spec);
    if (target && ownedChains.includes(target) && !ownedChains.includes(r.chain)) {
      lines.push(`-D ${r.chain} ${r.spec}`);
    }
  }
  for (const c of present) {
    if (!wanted.has(c)) lines.push(`-F ${c}`);
  }
  for (const c of present) {
    if (!wanted.has(c)) lines.push(`-X ${c}`);
  }
  for (const j of desired?.jumps ?? []) lines.push(renderAdd(j));
  for (const r of desired?.rules ?? []) lines.push(renderAdd(r));
  lines.push('COMMIT');
  return `${lines.join('\n')}\n`;
}

/** Removal of everything a rule set of this kind may have added, given the table's current state. */
export function buildTableRemoval(
  table: string,
  current: SavedTable | undefined,
  ownedChains: readonly string[],
): string | undefined {
  return buildTableTransaction(table, undefined, current, ownedChains);
}

function hasJumpsInto(current: SavedTable | undefined, ownedChains: readonly string[]): boolean {
  return (current?.rules ?? []).some((r) => {
    const t = ruleTarget(r.spec);
    return t !== undefined && ownedChains.includes(t) && !ownedChains.includes(r.chain);
  });
}

/** True when `current` already holds exactly the desired owned chains, rules and jumps (once each). */
export function tableMatches(
  desired: TableRules,
  current: SavedTable | undefined,
  ownedChains: readonly string[],
): boolean {
  if (!current) return false;
  const presentOwned = current.chains.filter((c) => ownedChains.includes(c)).sort();
  if (presentOwned.join(',') !== [...desired.ownedChains].sort().join(',')) return false;
  const ownedRules = current.rules.filter((r) => ownedChains.includes(r.chain));
  if (!sameRulesPerChain(desired.rules, ownedRules)) return false;
  const jumps = current.rules.filter((r) => {
    const t = ruleTarget(r.spec);
    return t !== undefined && ownedChains.includes(t) && !ownedChains.includes(r.chain);
  });
  return sameRulesPerChain(desired.jumps, jumps);
}

function sameRulesPerChain(a: readonly { chain: string; spec: string }[], b: readonly { chain: string; spec: string }[]) {
  const key = (rs: readonly { chain: string; spec: string }[]) => {
    const grouped = new Map<string, string[]>();
    for (const r of rs) grouped.set(r.chain, [...(grouped.get(r.chain) ?? []), r.spec]);
    return JSON.stringify([...grouped.entries()].sort(([x], [y]) => x.localeCompare(y)));
  };
  return a.length === b.length && key(a) === key(b);
}
