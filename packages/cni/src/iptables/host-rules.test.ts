import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyHostProbeRules, removeHostProbeRules } from './applier';
import { readGolden } from './golden.test-helper';
import { buildProbeIpsetCreateArgs } from './host-rules';
import { canUseKernel, createNetns, deleteNetns, normalizedSave, sh } from './netns.test-helper';
import { parseIptablesSave, rulesByChain } from './save-parser';

function hasIpset(): boolean {
  try {
    execFileSync('ipset', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const FOREIGN = '*nat\n-A POSTROUTING -p udp -j ACCEPT\nCOMMIT\n';

// Host rules are exercised in a throwaway netns standing in for the node's root netns.
describe.skipIf(!canUseKernel() || !hasIpset())('host probe SNAT rules (real netns)', () => {
  let host = '';
  let pristine: string[] = [];

  beforeAll(() => {
    host = createNetns('host');
    for (const f of ['v4', 'v6'] as const) sh(host, buildProbeIpsetCreateArgs(f));
    // A pre-existing POSTROUTING rule (say, a CNI masquerade): our jump must go in front of it.
    sh(host, ['iptables-restore', '--noflush'], FOREIGN);
    sh(host, ['ip6tables-restore', '--noflush'], FOREIGN);
    pristine = [normalizedSave(host, 'v4'), normalizedSave(host, 'v6')];
  });
  afterAll(() => deleteNetns(host));

  it('applies exactly the golden rule, first in POSTROUTING, idempotently', async () => {
    await applyHostProbeRules(`/var/run/netns/${host}`, {});
    expect(await applyHostProbeRules(`/var/run/netns/${host}`, {})).toEqual([]);
    for (const f of ['v4', 'v6'] as const) {
      const live = rulesByChain(parseIptablesSave(normalizedSave(host, f)).get('nat'));
      const golden = rulesByChain(parseIptablesSave(readGolden(`host_probe_${f}`)).get('nat'));
      expect(live).toEqual({ ...golden, POSTROUTING: [...(golden['POSTROUTING'] ?? []), '-p udp -j ACCEPT'] });
    }
  });

  it('removal leaves the tables as they were', async () => {
    await removeHostProbeRules(`/var/run/netns/${host}`);
    const after = [normalizedSave(host, 'v4'), normalizedSave(host, 'v6')];
    expect(after).toEqual(pristine);
  });
});
