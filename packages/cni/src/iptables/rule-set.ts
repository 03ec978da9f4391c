import type { IpFamily, IptablesTable } from './constants';

/**
 * One rule, in the exact canonical form `iptables-save` prints it (so applied state can be compared
 * byte-for-byte with what was built). `spec` is everything after `-A <chain>`.
 */
export interface Rule {
  readonly chain: string;
  readonly spec: string;
  /** Jumps Istio inserts at the head of a builtin chain (host POSTROUTING) instead of appending. */
  readonly insertFirst?: boolean;
}

/** Everything one table needs: the chains we own, the jumps into them, and their contents. */
export interface TableRules {
  readonly table: IptablesTable;
  /** Chains this rule set creates and owns (flushed and deleted on removal). */
  readonly ownedChains: readonly string[];
  /** Rules in builtin chains (the jumps into owned chains), in order. */
  readonly jumps: readonly Rule[];
  /** Rules in owned chains, in order. */
  readonly rules: readonly Rule[];
}

export interface RuleSet {
  readonly family: IpFamily;
  /** Every chain name this kind of rule set may own, in any table (used to find stale leftovers). */
  readonly allOwnedChains: readonly string[];
  /** Tables in kernel hook order: raw, mangle, nat. */
  readonly tables: readonly TableRules[];
}

/** Accumulates rules per table, remembering owned chains in first-use order. */
export class RuleSetBuilder {
  private readonly byTable = new Map<IptablesTable, { owned: string[]; jumps: Rule[]; rules: Rule[] }>();

  constructor(
    private readonly family: IpFamily,
    private readonly allOwnedChains: readonly string[],
  ) {}

  jump(table: IptablesTable, fromChain: string, toChain: string, insertFirst = false): this {
    const t = this.table(table);
    if (!t.owned.includes(toChain)) t.owned.push(toChain);
    t.jumps.push({ chain: fromChain, spec: `-j ${toChain}`, ...(insertFirst ? { insertFirst } : {}) });
    return this;
  }

  append(table: IptablesTable, chain: string, spec: string): this {
    const t = this.table(table);
    if (!t.owned.includes(chain)) t.owned.push(chain);
    t.rules.push({ chain, spec });
    return this;
  }

  build(): RuleSet {
    const order: IptablesTable[] = ['raw', 'mangle', 'nat', 'filter'];
    const tables: TableRules[] = [];
    for (const name of order) {
      const t = this.byTable.get(name);
      if (t) tables.push({ table: name, ownedChains: t.owned, jumps: t.jumps, rules: t.rules });
    }
    return { family: this.family, allOwnedChains: this.allOwnedChains, tables };
  }

  private table(name: IptablesTable): { owned: string[]; jumps: Rule[]; rules: Rule[] } {
    let t = this.byTable.get(name);
    if (!t) {
      t = { owned: [], jumps: [], rules: [] };
      this.byTable.set(name, t);
    }
    return t;
  }
}

/** iptables-restore input that creates one table's rules in a netns where none of them exist yet. */
export function renderFreshTable(t: TableRules): string {
  const lines = [`*${t.table}`, ...t.ownedChains.map((c) => `:${c} - [0:0]`)];
  for (const j of t.jumps) lines.push(renderAdd(j));
  for (const r of t.rules) lines.push(renderAdd(r));
  lines.push('COMMIT');
  return `${lines.join('\n')}\n`;
}

/** iptables-restore input for a whole rule set on an empty netns (the golden-file form). */
export function renderFreshRuleSet(rs: RuleSet): string {
  return rs.tables.map(renderFreshTable).join('');
}

export function renderAdd(r: Rule): string {
  return r.insertFirst ? `-I ${r.chain} 1 ${r.spec}` : `-A ${r.chain} ${r.spec}`;
}
