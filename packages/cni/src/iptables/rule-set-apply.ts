import type { IpFamily } from './constants';
import { restoreTables, saveTables } from './netns-iptables';
import type { RuleSet } from './rule-set';
import type { SavedTable } from './save-parser';
import { buildTableRemoval, buildTableTransaction } from './transaction';

/** One committed table transaction and how to undo it. */
interface CommittedTable {
  readonly family: IpFamily;
  readonly table: string;
  /** The table as it was before, or undefined if it did not exist (then undo = remove ours). */
  readonly before: SavedTable | undefined;
  readonly ownedChains: readonly string[];
}

export interface RuleSetApplyResult {
  /** `family/table` of every table that had to change (empty when already up to date). */
  readonly changedTables: string[];
  undo(): Promise<void>;
}

/**
 * Converges each table to `rs`. All table transactions go to ONE `ip[6]tables-restore` process (one
 * `*table ... COMMIT` block each: still atomic per table) because a process spawn in the pod netns is
 * the dominant cost of a CNI ADD. Tables holding only stale chains of ours (e.g. raw after DNS capture
 * was turned off) are cleaned in the same pass. On failure every table of the input is put back as it
 * was (restoring an untouched table's snapshot is a no-op), then the error is rethrown.
 * `current` may be a save taken earlier in the same ADD (the caller reads both families in parallel).
 */
export async function applyRuleSet(
  netnsPath: string | undefined,
  rs: RuleSet,
  current?: Map<string, SavedTable>,
): Promise<RuleSetApplyResult> {
  const tables = current ?? (await saveTables(netnsPath, rs.family));
  const pending: CommittedTable[] = [];
  const inputs: string[] = [];
  for (const name of new Set<string>([...rs.tables.map((t) => t.table), ...tables.keys()])) {
    const before = tables.get(name);
    const txn = buildTableTransaction(name, rs.tables.find((t) => t.table === name), before, rs.allOwnedChains);
    if (txn === undefined) continue;
    inputs.push(txn);
    pending.push({ family: rs.family, table: name, before, ownedChains: rs.allOwnedChains });
  }
  const undo = () => undoTables(netnsPath, pending);
  if (inputs.length > 0) {
    try {
      await restoreTables(netnsPath, rs.family, inputs.join(''), true);
    } catch (e) {
      await undo();
      throw e;
    }
  }
  return { changedTables: pending.map((c) => `${c.family}/${c.table}`), undo };
}

/** Removes every chain in `ownedChains` and the jumps into them: one restore, one block per table. */
export async function removeRuleSet(
  netnsPath: string | undefined,
  family: IpFamily,
  ownedChains: readonly string[],
): Promise<string[]> {
  const current = await saveTables(netnsPath, family);
  const changed: string[] = [];
  const inputs: string[] = [];
  for (const [name, table] of current) {
    const txn = buildTableRemoval(name, table, ownedChains);
    if (txn === undefined) continue;
    inputs.push(txn);
    changed.push(`${family}/${name}`);
  }
  if (inputs.length > 0) await restoreTables(netnsPath, family, inputs.join(''), true);
  return changed;
}

// Best effort, newest first: a failed undo must not hide the error that triggered it.
async function undoTables(netnsPath: string | undefined, committed: readonly CommittedTable[]): Promise<void> {
  for (const c of [...committed].reverse()) {
    try {
      if (c.before) {
        await restoreTables(netnsPath, c.family, c.before.text, false);
      } else {
        const now = (await saveTables(netnsPath, c.family)).get(c.table);
        const txn = buildTableRemoval(c.table, now, c.ownedChains);
        if (txn !== undefined) await restoreTables(netnsPath, c.family, txn, true);
      }
    } catch {
      // keep undoing the rest
    }
  }
}
