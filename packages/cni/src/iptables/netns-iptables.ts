import type { IpFamily } from './constants';
import { detectIptablesBackend, XTABLES_LOCK_WAIT_S } from './backend';
import { CniRedirectionError } from './errors';
import { familyLane, runInNetns } from './exec';
import { parseIptablesSave, type SavedTable } from './save-parser';

/** `ip[6]tables-save` inside a netns, parsed per table. */
export async function saveTables(netnsPath: string | undefined, family: IpFamily): Promise<Map<string, SavedTable>> {
  const bin = await detectIptablesBackend();
  const argv = [bin.save(family)];
  const res = await runInNetns(netnsPath, argv, undefined, familyLane(family));
  if (res.code !== 0) {
    throw new CniRedirectionError('CNI_IPTABLES_FAILED', `${argv[0]} failed in ${netnsPath ?? 'the current netns'}: ${res.stderr.trim()}`, {
      command: argv,
      stderr: res.stderr,
    });
  }
  return parseIptablesSave(res.stdout);
}

/**
 * Feeds one restore input to `ip[6]tables-restore`. With `noflush` (our transactions) only what the
 * input names changes; without it (snapshot rollback) each table in the input is replaced wholesale.
 */
export async function restoreTables(
  netnsPath: string | undefined,
  family: IpFamily,
  input: string,
  noflush: boolean,
): Promise<void> {
  const bin = await detectIptablesBackend();
  const argv = [bin.restore(family), '--wait', String(XTABLES_LOCK_WAIT_S), ...(noflush ? ['--noflush'] : [])];
  const res = await runInNetns(netnsPath, argv, input, familyLane(family));
  if (res.code !== 0) {
    throw new CniRedirectionError(
      'CNI_IPTABLES_FAILED',
      `${argv[0]} failed in ${netnsPath ?? 'the current netns'} (exit ${res.code}): ${res.stderr.trim()}; ` +
        `check that the kernel has the needed xtables/nf_tables modules (REDIRECT, CONNMARK, CT, mark, owner, set)`,
      { command: argv, stderr: res.stderr },
    );
  }
}
