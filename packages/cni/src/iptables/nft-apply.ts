import type { InPodRedirectionConfig } from './config';
import { CniRedirectionError } from './errors';
import { runInNetns } from './exec';
import type { NetnsProbe } from './netns-builtins';
import { buildInPodNftScript, buildNftRemovalScript, NFT_INPOD_TABLES } from './nft-rules';

const NFT_ARGV = ['nft', '-f', '-'] as const;
/** How mesh-netns-exec and nsenter report a command that cannot be executed. */
const NOT_EXECUTABLE_EXIT = 127;

/**
 * Puts the in-pod rules in place as nftables `inet` tables: one `nft -f` transaction for both
 * families, all-or-nothing, so a failure leaves the netns as it was. Returns the tables written.
 */
export async function applyNftInPod(netnsPath: string, cfg: InPodRedirectionConfig): Promise<string[]> {
  const res = await runInNetns(netnsPath, NFT_ARGV, buildInPodNftScript(cfg));
  if (res.code !== 0) {
    throw new CniRedirectionError(
      'CNI_NFTABLES_FAILED',
      `nft -f failed in ${netnsPath} (exit ${res.code}): ${res.stderr.trim()}; ` +
        'check that nft is installed and the kernel has nf_tables with the inet family, nat, ct and redirect',
      { command: NFT_ARGV, stderr: res.stderr },
    );
  }
  return NFT_INPOD_TABLES.map((t) => `inet/${t}`);
}

/**
 * Removes our `inet` tables if present. Skipped when the helper's probe saw no inet table, or when
 * nft is not installed (then none of ours can have been written by this node).
 */
export async function removeNftInPod(netnsPath: string, probe: NetnsProbe | undefined): Promise<void> {
  if (probe?.nftInetTables === 0) return;
  const res = await runInNetns(netnsPath, NFT_ARGV, buildNftRemovalScript()).catch((e: unknown) => {
    if ((e as { code?: unknown }).code === 'CNI_IPTABLES_NOT_INSTALLED') return undefined;
    throw e;
  });
  if (res === undefined || res.code === 0 || (res.code === NOT_EXECUTABLE_EXIT && /nft/.test(res.stderr))) return;
  throw new CniRedirectionError('CNI_NFTABLES_FAILED', `removing the istio-ambient nftables tables failed in ${netnsPath}: ${res.stderr.trim()}`, {
    command: NFT_ARGV,
    stderr: res.stderr,
  });
}
