import { describe, expect, it } from 'vitest';
import { resolveInPodConfig } from './config';
import { expectGolden } from './golden.test-helper';
import { GOLDEN_INPOD_CASES } from './golden-cases';
import { buildInPodNftScript, buildNftRemovalScript, NFT_INPOD_TABLES } from './nft-rules';

describe('native nftables in-pod rules (golden)', () => {
  const cases = { ...GOLDEN_INPOD_CASES, inpod_ipv4_only: { enableIpv6: false } };
  for (const [name, partial] of Object.entries(cases)) {
    it(`renders ${name}`, () => {
      expectGolden(`nft_${name}`, buildInPodNftScript(resolveInPodConfig(partial)));
    });
  }

  it('replaces each of our tables wholesale in the same transaction (idempotent without reading state)', () => {
    const script = buildInPodNftScript(resolveInPodConfig({}));
    for (const t of NFT_INPOD_TABLES) {
      const add = script.indexOf(`add table inet ${t}\n`);
      const del = script.indexOf(`delete table inet ${t}\n`);
      const def = script.indexOf(`table inet ${t} {`);
      expect(add).toBeGreaterThanOrEqual(0);
      expect(del).toBeGreaterThan(add);
      expect(def).toBeGreaterThan(del);
    }
  });

  it('without DNS capture the raw table is only deleted, not defined', () => {
    const script = buildInPodNftScript(resolveInPodConfig({ redirectDns: false }));
    expect(script).toContain('delete table inet istio-ambient-raw\n');
    expect(script).not.toContain('table inet istio-ambient-raw {');
    expect(script).not.toContain('15053');
  });

  it('IPv4 only: no rule can match an IPv6 packet', () => {
    const script = buildInPodNftScript(resolveInPodConfig({ enableIpv6: false }));
    expect(script).not.toMatch(/ipv6|ip6 /);
  });

  it('removal names every table', () => {
    expect(buildNftRemovalScript().trim().split('\n')).toHaveLength(NFT_INPOD_TABLES.length * 2);
  });
});
