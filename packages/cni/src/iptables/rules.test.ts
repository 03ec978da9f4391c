import { describe, expect, it } from 'vitest';
import { resolveInPodConfig } from './config';
import type { IpFamily } from './constants';
import { expectGolden } from './golden.test-helper';
import { GOLDEN_INPOD_CASES } from './golden-cases';
import { buildHostProbeRuleSet, buildProbeIpsetCreateArgs } from './host-rules';
import { buildInPodRuleSet, INPOD_OWNED_CHAINS } from './inpod-rules';
import { ipRuleArgs, loopbackRouteArgs } from './routing';
import { renderFreshRuleSet, type RuleSet } from './rule-set';
import { parseIptablesSave } from './save-parser';
import { buildTableRemoval, buildTableTransaction } from './transaction';

const FAMILIES: IpFamily[] = ['v4', 'v6'];

function removalOf(rs: RuleSet): string {
  const state = parseIptablesSave(renderFreshRuleSet(rs));
  return [...state.values()].map((t) => buildTableRemoval(t.table, t, rs.allOwnedChains) ?? '').join('');
}

describe('in-pod rule builders (golden)', () => {
  for (const [name, partial] of Object.entries(GOLDEN_INPOD_CASES)) {
    for (const family of FAMILIES) {
      it(`${name} ${family}`, () => {
        expectGolden(`${name}_${family}`, renderFreshRuleSet(buildInPodRuleSet(resolveInPodConfig(partial), family)));
      });
    }
  }

  for (const family of FAMILIES) {
    it(`deletion of the default rules ${family}`, () => {
      expectGolden(`inpod_default_delete_${family}`, removalOf(buildInPodRuleSet(resolveInPodConfig(), family)));
    });
    it(`host probe SNAT ${family}`, () => {
      expectGolden(`host_probe_${family}`, renderFreshRuleSet(buildHostProbeRuleSet(resolveInPodConfig(), family)));
    });
  }

  it('policy routing commands', () => {
    const lines = FAMILIES.flatMap((f) => [
      ipRuleArgs('add', f),
      loopbackRouteArgs('replace', f),
      ipRuleArgs('del', f),
      loopbackRouteArgs('del', f),
      buildProbeIpsetCreateArgs(f),
    ]).map((argv) => argv.join(' '));
    expectGolden('routing', `${lines.join('\n')}\n`);
  });
});

describe('in-pod rule semantics', () => {
  const v4 = buildInPodRuleSet(resolveInPodConfig(), 'v4');
  const nat = v4.tables.find((t) => t.table === 'nat');

  it('redirects inbound to 15006 but never 15008', () => {
    const inbound = nat?.rules.find((r) => r.spec.includes('--to-ports 15006'));
    expect(inbound?.chain).toBe('ISTIO_PRERT');
    expect(inbound?.spec).toContain('! --dport 15008');
    expect(inbound?.spec).toContain('! --mark 0x539/0xfff');
  });

  it('ingress mode leaves inbound uncaptured but keeps outbound capture', () => {
    const ingress = buildInPodRuleSet(resolveInPodConfig({ ingressMode: true }), 'v4');
    const specs = ingress.tables.flatMap((t) => t.rules.map((r) => r.spec));
    expect(specs.some((s) => s.includes('--to-ports 15006'))).toBe(false);
    expect(specs.some((s) => s.includes('--to-ports 15001'))).toBe(true);
  });

  it('DNS disabled drops the raw table entirely', () => {
    const noDns = buildInPodRuleSet(resolveInPodConfig({ redirectDns: false }), 'v6');
    expect(noDns.tables.map((t) => t.table)).toEqual(['mangle', 'nat']);
  });

  it('rejects interface names that could inject restore lines', () => {
    expect(() => resolveInPodConfig({ virtualInterfaces: ['eth0\n-A OUTPUT -j DROP'] })).toThrow(
      expect.objectContaining({ code: 'CNI_INVALID_CONFIG' }),
    );
  });
});

describe('table transactions', () => {
  const rs = buildInPodRuleSet(resolveInPodConfig(), 'v4');
  const applied = parseIptablesSave(renderFreshRuleSet(rs));

  it('is a no-op when the table already matches', () => {
    for (const t of rs.tables) {
      expect(buildTableTransaction(t.table, t, applied.get(t.table), INPOD_OWNED_CHAINS)).toBeUndefined();
    }
  });

  it('deletes every existing jump (duplicates included) before re-adding', () => {
    const mangle = rs.tables.find((t) => t.table === 'mangle');
    const dup = parseIptablesSave('*mangle\n:ISTIO_PRERT - [0:0]\n-A PREROUTING -j ISTIO_PRERT\n-A PREROUTING -j ISTIO_PRERT\nCOMMIT\n');
    const txn = buildTableTransaction('mangle', mangle, dup.get('mangle'), INPOD_OWNED_CHAINS) ?? '';
    expect(txn.match(/^-D PREROUTING -j ISTIO_PRERT$/gm)).toHaveLength(2);
    expect(txn.match(/^-A PREROUTING -j ISTIO_PRERT$/gm)).toHaveLength(1);
  });

  it('removes stale chains of ours the new config no longer wants', () => {
    const noDns = buildInPodRuleSet(resolveInPodConfig({ redirectDns: false }), 'v4');
    const txn = buildTableTransaction('raw', noDns.tables.find((t) => t.table === 'raw'), applied.get('raw'), INPOD_OWNED_CHAINS);
    expect(txn).toContain('-X ISTIO_PRERT');
    expect(txn).toContain('-D OUTPUT -j ISTIO_OUTPUT');
  });

  it('leaves foreign rules alone on removal', () => {
    const state = parseIptablesSave('*nat\n:KUBE-X - [0:0]\n-A OUTPUT -j KUBE-X\n-A KUBE-X -j RETURN\nCOMMIT\n');
    expect(buildTableRemoval('nat', state.get('nat'), INPOD_OWNED_CHAINS)).toBeUndefined();
  });
});
