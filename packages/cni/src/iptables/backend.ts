import type { IpFamily } from './constants';
import { CniRedirectionError } from './errors';
import { runCommand } from './exec';

export type IptablesBackend = 'nft' | 'legacy';

export interface IptablesBinaries {
  readonly backend: IptablesBackend;
  readonly version: string;
  save(family: IpFamily): string;
  restore(family: IpFamily): string;
}

/** Seconds iptables-restore waits for the xtables lock (legacy backend; nft ignores it). */
export const XTABLES_LOCK_WAIT_S = 5;

let detected: Promise<IptablesBinaries> | undefined;

/**
 * Uses `iptables` as installed, like Istio (which commits to the host's variant for every pod):
 * the version banner says `(nf_tables)` or `(legacy)`; we report it and call the matching
 * `ip[6]tables-save` / `ip[6]tables-restore` front-ends.
 */
export function detectIptablesBackend(): Promise<IptablesBinaries> {
  detected ??= probe().catch((e: unknown) => {
    detected = undefined;
    throw e;
  });
  return detected;
}

async function probe(): Promise<IptablesBinaries> {
  const res = await runCommand(['iptables', '--version']);
  const m = /iptables v(\S+)(?: \((nf_tables|legacy)\))?/.exec(res.stdout);
  if (res.code !== 0 || !m || m[1] === undefined) {
    throw new CniRedirectionError('CNI_IPTABLES_NOT_INSTALLED', `iptables --version failed; install the iptables package`, {
      command: ['iptables', '--version'],
      stderr: res.stderr,
    });
  }
  const backend: IptablesBackend = m[2] === 'nf_tables' ? 'nft' : 'legacy';
  const prefix = (f: IpFamily) => (f === 'v4' ? 'iptables' : 'ip6tables');
  return {
    backend,
    version: m[1],
    save: (f) => `${prefix(f)}-save`,
    restore: (f) => `${prefix(f)}-restore`,
  };
}
