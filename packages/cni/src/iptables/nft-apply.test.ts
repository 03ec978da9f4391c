import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyInPodRedirection, removeInPodRedirection } from './applier';
import { closeNetnsExecPool } from './exec';
import { canUseKernel, createNetns, deleteNetns, normalizedSave, sh } from './netns.test-helper';
import { NETNS_EXEC_OFF } from './netns-session';

const FOREIGN_RULES = '*nat\n:KUBE-HOSTPORTS - [0:0]\n-A OUTPUT -j KUBE-HOSTPORTS\nCOMMIT\n';
const nftUsable = (): boolean => {
  try {
    return canUseKernel() && execFileSync('nft', ['--version'], { encoding: 'utf8' }).startsWith('nftables');
  } catch {
    return false;
  }
};

function ours(ns: string): string {
  return sh(ns, ['nft', 'list', 'tables'])
    .split('\n')
    .filter((l) => l.includes('istio-ambient'))
    .join('\n');
}

describe.skipIf(!nftUsable())('native nftables backend (real netns)', () => {
  const names: string[] = [];
  const path = (n: string): string => `/var/run/netns/${n}`;
  const routing = (n: string): string => ['-4', '-6'].map((f) => sh(n, ['ip', f, 'rule', 'show']) + sh(n, ['ip', f, 'route', 'show', 'table', '100'])).join('');

  beforeAll(() => {
    names.push(createNetns('nft'), createNetns('nftoff'));
    sh(names[0] ?? '', ['iptables-restore', '--noflush'], FOREIGN_RULES);
  });
  afterAll(() => {
    closeNetnsExecPool();
    names.forEach(deleteNetns);
  });

  for (const [label, exec] of [['pooled helpers', { pooled: true }], ['nsenter', { netnsExecHelper: NETNS_EXEC_OFF }]] as const) {
    it(`applies the inet tables and the routing, idempotently, and removes them (${label})`, async () => {
      const ns = label === 'nsenter' ? (names[1] ?? '') : (names[0] ?? '');
      const iptablesBefore = normalizedSave(ns, 'v4');
      const result = await applyInPodRedirection(path(ns), { nativeNftables: true }, exec);
      expect(result.changedTables).toEqual(['inet/istio-ambient-raw', 'inet/istio-ambient-mangle', 'inet/istio-ambient-nat']);
      expect(ours(ns)).toBe('table inet istio-ambient-raw\ntable inet istio-ambient-mangle\ntable inet istio-ambient-nat');
      const nat = sh(ns, ['nft', 'list', 'table', 'inet', 'istio-ambient-nat']);
      expect(nat).toContain('redirect to :15001');
      expect(nat).toContain('ip6 daddr != ::1');
      expect(sh(ns, ['ip', '-4', 'rule', 'show'])).toMatch(/fwmark 0x111\/0xfff lookup 100/);
      const ruleset = sh(ns, ['nft', 'list', 'ruleset']);
      const routes = routing(ns);
      await applyInPodRedirection(path(ns), { nativeNftables: true }, exec);
      expect(sh(ns, ['nft', 'list', 'ruleset'])).toBe(ruleset);
      expect(routing(ns)).toBe(routes);
      expect(normalizedSave(ns, 'v4')).toBe(iptablesBefore);
      await removeInPodRedirection(path(ns), exec);
      expect(ours(ns)).toBe('');
      expect(sh(ns, ['ip', '-4', 'rule', 'show'])).not.toContain('fwmark');
      expect(normalizedSave(ns, 'v4')).toBe(iptablesBefore);
    });
  }

  it('a failing nft leaves no routing behind and fails closed with CNI_NFTABLES_FAILED', async () => {
    const ns = names[1] ?? '';
    const before = routing(ns);
    const dir = mkdtempSync(join(tmpdir(), 'mesh-cni-fake-nft-'));
    writeFileSync(join(dir, 'nft'), '#!/bin/sh\ncat >/dev/null\necho "fake nft failure" >&2\nexit 1\n');
    chmodSync(join(dir, 'nft'), 0o755);
    const oldPath = process.env['PATH'];
    process.env['PATH'] = `${dir}:${oldPath ?? ''}`;
    try {
      await expect(applyInPodRedirection(path(ns), { nativeNftables: true }, { netnsExecHelper: NETNS_EXEC_OFF })).rejects.toMatchObject({
        code: 'CNI_NFTABLES_FAILED',
        stderr: expect.stringContaining('fake nft failure'),
      });
    } finally {
      process.env['PATH'] = oldPath;
      rmSync(dir, { recursive: true, force: true });
    }
    expect(routing(ns)).toBe(before);
    expect(ours(ns)).toBe('');
  });
});
