import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyInPodRedirection, removeInPodRedirection } from './applier';
import { closeNetnsExecPool } from './exec';
import { readGolden } from './golden.test-helper';
import { NETNS_EXEC_OFF } from './netns-session';
import { GOLDEN_INPOD_CASES } from './golden-cases';
import { canUseKernel, createNetns, deleteNetns, normalizedSave, sh } from './netns.test-helper';
import { parseIptablesSave, rulesByChain } from './save-parser';

const FAMILIES = ['v4', 'v6'] as const;

// Rules a CNI plugin earlier in the chain might have left in the pod netns; ours must coexist.
const FOREIGN_RULES = `*nat
:KUBE-HOSTPORTS - [0:0]
-A OUTPUT -j KUBE-HOSTPORTS
-A PREROUTING -p tcp --dport 1234 -j ACCEPT
-A KUBE-HOSTPORTS -j RETURN
COMMIT
*mangle
-A PREROUTING -p udp -j ACCEPT
COMMIT
*raw
-A OUTPUT -p udp --dport 9999 -j ACCEPT
COMMIT
`;

interface Snapshot {
  readonly saves: string[];
  readonly routing: string[];
}

function snapshot(ns: string): Snapshot {
  return {
    saves: FAMILIES.map((f) => normalizedSave(ns, f)),
    routing: ['-4', '-6'].flatMap((f) => [sh(ns, ['ip', f, 'rule', 'show']), sh(ns, ['ip', f, 'route', 'show', 'table', 'all'])]),
  };
}

/** Pristine rules per chain followed by the golden rules per chain: what iptables-save must show. */
function expectedChains(pristine: string, golden: string): Record<string, Record<string, string[]>> {
  const before = parseIptablesSave(pristine);
  const ours = parseIptablesSave(golden);
  const out: Record<string, Record<string, string[]>> = {};
  for (const table of new Set([...before.keys(), ...ours.keys()])) {
    const merged = rulesByChain(before.get(table));
    for (const [chain, specs] of Object.entries(rulesByChain(ours.get(table)))) merged[chain] = [...(merged[chain] ?? []), ...specs];
    out[table] = merged;
  }
  return out;
}

function liveChains(ns: string, family: 'v4' | 'v6'): Record<string, Record<string, string[]>> {
  const out: Record<string, Record<string, string[]>> = {};
  for (const [table, t] of parseIptablesSave(normalizedSave(ns, family))) out[table] = rulesByChain(t);
  return out;
}

describe.skipIf(!canUseKernel())('applyInPodRedirection / removeInPodRedirection (real netns)', () => {
  const namespaces: string[] = [];
  let pod = '';
  let pristine: Snapshot;

  beforeAll(() => {
    pod = createNetns('pod');
    namespaces.push(pod);
    sh(pod, ['iptables-restore', '--noflush'], FOREIGN_RULES);
    sh(pod, ['ip6tables-restore', '--noflush'], FOREIGN_RULES);
    pristine = snapshot(pod);
  });
  afterAll(() => {
    closeNetnsExecPool();
    namespaces.forEach(deleteNetns);
  });

  for (const name of ['inpod_default', 'inpod_ingress_and_virtual_interfaces'] as const) {
    it(`applies exactly the ${name} golden rules in both families`, async () => {
      const result = await applyInPodRedirection(pod, GOLDEN_INPOD_CASES[name]);
      expect(result.changedTables.length).toBeGreaterThan(0);
      FAMILIES.forEach((f, i) => {
        expect(liveChains(pod, f)).toEqual(expectedChains(pristine.saves[i] ?? '', readGolden(`${name}_${f}`)));
      });
    });
  }

  it('installs the fwmark rule and local route once', async () => {
    await applyInPodRedirection(pod, {});
    for (const f of ['-4', '-6']) {
      expect(sh(pod, ['ip', f, 'rule', 'show']).match(/fwmark 0x111\/0xfff lookup 100/g)).toHaveLength(1);
      expect(sh(pod, ['ip', f, 'route', 'show', 'table', '100'])).toMatch(/^local default dev lo/m);
    }
  });

  it('applying twice changes nothing', async () => {
    await applyInPodRedirection(pod, {});
    const first = snapshot(pod);
    const again = await applyInPodRedirection(pod, {});
    expect(again.changedTables).toEqual([]);
    expect(snapshot(pod)).toEqual(first);
  });

  it('switching DNS capture off drops the raw chains', async () => {
    await applyInPodRedirection(pod, { redirectDns: false });
    const raw = parseIptablesSave(normalizedSave(pod, 'v4')).get('raw');
    expect(raw?.chains.filter((c) => c.startsWith('ISTIO_'))).toEqual([]);
    expect(liveChains(pod, 'v4')['raw']).toEqual(rulesByChain(parseIptablesSave(pristine.saves[0] ?? '').get('raw')));
  });

  it('remove restores the pristine netns exactly', async () => {
    await applyInPodRedirection(pod, {});
    await removeInPodRedirection(pod);
    expect(snapshot(pod)).toEqual(pristine);
    await removeInPodRedirection(pod); // and removing again is harmless
    expect(snapshot(pod)).toEqual(pristine);
  });

  it('rolls everything back when a later table fails', async () => {
    // A real failing binary first on PATH: ip6tables-restore that rejects the nat table only.
    const dir = mkdtempSync(join(tmpdir(), 'mesh-cni-fake-'));
    const fake = join(dir, 'ip6tables-restore');
    writeFileSync(fake, '#!/bin/sh\nin=$(cat)\ncase "$in" in *"*nat"*) echo "fake nat failure" >&2; exit 1;; esac\nprintf "%s\\n" "$in" | /usr/sbin/ip6tables-restore "$@"\n');
    chmodSync(fake, 0o755);
    const oldPath = process.env['PATH'];
    process.env['PATH'] = `${dir}:${oldPath ?? ''}`;
    try {
      await expect(applyInPodRedirection(pod, {})).rejects.toMatchObject({
        code: 'CNI_IPTABLES_FAILED',
        stderr: expect.stringContaining('fake nat failure'),
      });
    } finally {
      process.env['PATH'] = oldPath;
      rmSync(dir, { recursive: true, force: true });
    }
    expect(snapshot(pod)).toEqual(pristine);
  });

  it('applies and removes the same rules through nsenter when the mesh-netns-exec helper is off', async () => {
    const exec = { netnsExecHelper: NETNS_EXEC_OFF };
    await applyInPodRedirection(pod, GOLDEN_INPOD_CASES.inpod_default, exec);
    FAMILIES.forEach((f, i) => {
      expect(liveChains(pod, f)).toEqual(expectedChains(pristine.saves[i] ?? '', readGolden(`inpod_default_${f}`)));
    });
    await removeInPodRedirection(pod, exec);
    expect(snapshot(pod)).toEqual(pristine);
  });

  it('rolls the routing back when a routing write (ip processes, helper off) fails after taking effect', async () => {
    // A real `ip` that applies its batch, then reports failure if the batch added the fwmark rule.
    const dir = mkdtempSync(join(tmpdir(), 'mesh-cni-fake-ip-'));
    writeFileSync(join(dir, 'ip'), '#!/bin/sh\nin=$(cat)\nprintf "%s\\n" "$in" | /usr/sbin/ip "$@" || exit 1\ncase "$in" in *"rule add"*) echo "fake rule failure" >&2; exit 1;; esac\n');
    chmodSync(join(dir, 'ip'), 0o755);
    const oldPath = process.env['PATH'];
    process.env['PATH'] = `${dir}:${oldPath ?? ''}`;
    try {
      await expect(applyInPodRedirection(pod, {}, { netnsExecHelper: NETNS_EXEC_OFF })).rejects.toMatchObject({
        code: 'CNI_ROUTING_FAILED',
        stderr: expect.stringContaining('fake rule failure'),
      });
    } finally {
      process.env['PATH'] = oldPath;
      rmSync(dir, { recursive: true, force: true });
    }
    expect(snapshot(pod)).toEqual(pristine);
  });

  it('rolls the netlink routing of v4 back when the v6 route cannot be added (lo down), then fails closed', async () => {
    const down = createNetns('lodown');
    namespaces.push(down);
    sh(down, ['ip', 'link', 'set', 'lo', 'down']);
    const before = snapshot(down);
    await expect(applyInPodRedirection(`/var/run/netns/${down}`, {})).rejects.toMatchObject({
      code: 'CNI_ROUTING_FAILED',
      stderr: expect.stringContaining('add-route (IPv6'),
    });
    expect(snapshot(down).routing).toEqual(before.routing);
    // The v4 rules may have gone in meanwhile (families run side by side): undone, empty builtin chains remain.
    for (const f of FAMILIES) {
      for (const t of parseIptablesSave(normalizedSave(down, f)).values()) {
        expect(t.rules).toEqual([]);
        expect(t.chains.filter((c) => c.startsWith('ISTIO'))).toEqual([]);
      }
    }
  });

  it('applies the same rules and routing with pooled helpers as with nsenter, and reports its steps', async () => {
    const viaPool = createNetns('pool');
    const viaNsenter = createNetns('nsenter');
    namespaces.push(viaPool, viaNsenter);
    const result = await applyInPodRedirection(`/var/run/netns/${viaPool}`, GOLDEN_INPOD_CASES.inpod_default, { pooled: true });
    await applyInPodRedirection(`/var/run/netns/${viaNsenter}`, GOLDEN_INPOD_CASES.inpod_default, { netnsExecHelper: NETNS_EXEC_OFF });
    expect(Object.keys(result.stepsMs)).toEqual(['session', 'probe', 'routingAndRestore']);
    expect(snapshot(viaPool)).toEqual(snapshot(viaNsenter));
    for (const f of ['-4', '-6']) {
      expect(sh(viaPool, ['ip', '-d', f, 'rule', 'show'])).toBe(sh(viaNsenter, ['ip', '-d', f, 'rule', 'show']));
      expect(sh(viaPool, ['ip', '-d', f, 'route', 'show', 'table', 'all'])).toBe(sh(viaNsenter, ['ip', '-d', f, 'route', 'show', 'table', 'all']));
    }
    await removeInPodRedirection(`/var/run/netns/${viaPool}`, { pooled: true });
    expect(sh(viaPool, ['ip', '-4', 'rule', 'show'])).not.toContain('fwmark');
  });

  it('fails with CNI_NETNS_NOT_FOUND for a missing netns', async () => {
    await expect(applyInPodRedirection('/var/run/netns/mtest-does-not-exist', {})).rejects.toMatchObject({
      code: 'CNI_NETNS_NOT_FOUND',
    });
  });

  it('leaves a netns that had no tables with nothing but empty builtin chains', async () => {
    const bare = createNetns('bare');
    namespaces.push(bare);
    await applyInPodRedirection(`/var/run/netns/${bare}`, {});
    await removeInPodRedirection(`/var/run/netns/${bare}`);
    for (const f of FAMILIES) {
      for (const t of parseIptablesSave(normalizedSave(bare, f)).values()) {
        expect(t.rules).toEqual([]);
        expect(t.chains.filter((c) => c.startsWith('ISTIO'))).toEqual([]);
      }
    }
    expect(sh(bare, ['ip', '-4', 'route', 'show', 'table', '100'])).toBe('');
  });
});
