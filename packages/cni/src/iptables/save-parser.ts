import type { Rule } from './rule-set';

/** One table as `iptables-save` (or our own restore input) describes it. */
export interface SavedTable {
  readonly table: string;
  /** Chain names in declaration order (builtin and user). */
  readonly chains: readonly string[];
  /** `-A` rules in order; counters (`[p:b]` prefixes from `-c`) are dropped. */
  readonly rules: readonly Rule[];
  /** The section text exactly as read, `*table` through `COMMIT` (used to restore a snapshot). */
  readonly text: string;
}

const COUNTER_PREFIX_RE = /^\[\d+:\d+\]\s+/;

/** Parses `iptables-save` output (also accepts restore input made only of `:` and `-A` lines). */
export function parseIptablesSave(text: string): Map<string, SavedTable> {
  const out = new Map<string, SavedTable>();
  let cur: { table: string; chains: string[]; rules: Rule[]; lines: string[] } | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('*')) {
      cur = { table: line.slice(1), chains: [], rules: [], lines: [line] };
      continue;
    }
    if (!cur) continue;
    cur.lines.push(line);
    if (line === 'COMMIT') {
      out.set(cur.table, { table: cur.table, chains: cur.chains, rules: cur.rules, text: `${cur.lines.join('\n')}\n` });
      cur = undefined;
    } else if (line.startsWith(':')) {
      const name = line.slice(1).split(' ')[0];
      if (name) cur.chains.push(name);
    } else {
      addRule(cur.rules, line.replace(COUNTER_PREFIX_RE, ''));
    }
  }
  return out;
}

// `-A` is all iptables-save prints; `-I CHAIN 1` also appears in our own restore inputs.
function addRule(rules: Rule[], line: string): void {
  const append = /^-A (\S+) (.*)$/.exec(line);
  if (append?.[1] !== undefined && append[2] !== undefined) {
    rules.push({ chain: append[1], spec: append[2] });
    return;
  }
  const insert = /^-I (\S+) 1 (.*)$/.exec(line);
  if (insert?.[1] === undefined || insert[2] === undefined) return;
  const chain = insert[1];
  const at = rules.findIndex((r) => r.chain === chain);
  rules.splice(at < 0 ? rules.length : at, 0, { chain, spec: insert[2] });
}

/** The chain a rule jumps or goes to, if any. */
export function ruleTarget(spec: string): string | undefined {
  const m = /(?:^|\s)-[jg] (\S+)/.exec(spec);
  return m?.[1];
}

/** Rules grouped per chain, each chain's rules in order: the comparison form for applied state. */
export function rulesByChain(t: SavedTable | undefined, chains?: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const r of t?.rules ?? []) {
    if (chains && !chains.includes(r.chain)) continue;
    (out[r.chain] ??= []).push(r.spec);
  }
  return out;
}
