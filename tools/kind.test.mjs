// kind/mesh.sh: the dry run lists the steps in Istio's install order, and every `helm upgrade --install`
// it would run renders with tools/helm-render using exactly the same chart, namespace, values and --set.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildRenderer, repoRoot } from './helm-render.mjs';

let bin;
beforeAll(() => { bin = buildRenderer(); }, 120_000);
const dryRun = (...steps) => execFileSync('bash', [path.join(repoRoot, 'kind', 'mesh.sh'), '--dry-run', ...steps], { cwd: repoRoot, encoding: 'utf8' }).trim().split('\n');

describe('kind', () => {
  it('cluster configs have one control plane and two workers', () => {
    for (const f of ['cluster.yaml', 'cluster-cni-mounts.yaml']) {
      const cfg = parse(fs.readFileSync(path.join(repoRoot, 'kind', f), 'utf8'));
      expect(cfg.nodes.map((n) => n.role), f).toEqual(['control-plane', 'worker', 'worker']);
    }
  });

  it('up = create, build, load, Gateway API CRDs, charts base -> istiod -> cni -> ztunnel, wait', () => {
    const lines = dryRun('up');
    const idx = (re) => lines.findIndex((l) => re.test(l));
    const order = [/^kind create cluster/, /^docker build/, /^kind load docker-image/, /gateway-api/, /istio-base charts\/base/,
      /istiod charts\/istiod/, /istio-cni charts\/cni/, /ztunnel charts\/ztunnel/, /rollout status deployment\/istiod/];
    const positions = order.map(idx);
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(dryRun('down')).toEqual(['kind delete cluster --name mesh']);
  });

  it('every helm install line renders with helm-render', () => {
    const helm = dryRun('install').filter((l) => l.startsWith('helm '));
    expect(helm).toHaveLength(4);
    for (const line of helm) {
      const words = line.split(/\s+/);
      const [release, chart] = words.slice(3, 5);
      const args = [];
      for (let i = 5; i < words.length; i++) {
        const w = words[i];
        if (w === '--namespace' || w === '--set') args.push(w, words[++i]);
        else if (w === '-f') args.push('--values', words[++i]);
        else if (w === '--timeout') i++;
      }
      const out = execFileSync(bin, [...args, release, chart], { cwd: repoRoot, encoding: 'utf8' });
      expect(out, line).toMatch(/^---\n# Source: /);
    }
  });
});
