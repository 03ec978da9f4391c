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
 * Converges each table to `rs`, one atomic restore per table. Tables holding only stale chains of
 * ours (e.g. raw after DNS capture was turned off) are cleaned in the same pass. If a later table
 * fails, the earlier ones are put back as they were before the error is rethrown.
 */
export async function applyRuleSet(netnsPath: string | undefined, rs: RuleSet): Promise<RuleSetApplyResult> {
  const current = await saveTables(netnsPath, rs.family);
  const committed: CommittedTable[] = [];
  const undo = () => undoTables(netnsPath, committed);
  const tableNames = new Set<string>([...rs.tables.map((t) => t.table), ...current.keys()]);
  try {
    for (const name of tableNames) {
      const desired = rs.tables.find((t) => t.table === name);
      const before = current.get(name);
      const txn = buildTableTransaction(name, desired, before, rs.allOwnedChains);
      if (txn === undefined) continue;
      await restoreTables(netnsPath, rs.family, txn, true);
      committed.push({ family: rs.family, table: name, before, ownedChains: rs.allOwnedChains });
    }
  } catch (e) {
    await undo();
    throw e;
  }
  return { changedTables: committed.map((c) => `${c.family}/${c.table}`), undo };
}

/** Removes every chain in `ownedChains` and the jumps into them, one atomic restore per table. */
export async function removeRuleSet(
  netnsPath: string | undefined,
  family: IpFamily,
  ownedChains: readonly string[],
): Promise<string[]> {
  const current = await saveTables(netnsPath, family);
  const changed: string[] = [];
  for (const [name, table] of current) {
    const txn = buildTableRemoval(name, table, ownedChains);
    if (txn === undefined) continue;
    await restoreTables(netnsPath, family, txn, true);
    changed.push(`${family}/${name}`);
  }
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
