// Keeps the benchmark harness from rotting: runs `node tools/bench.mjs --smoke` (one round, tiny sizes,
// no doc write) for the peers installed on this machine and checks it measured them and cleaned up.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SMOKE_TIMEOUT_MS = 150_000;
const isRoot = process.getuid?.() === 0;
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

function installedPeers() {
  const peers = ['direct'];
  if (has('stunnel4')) peers.push('stunnel');
  if (has('haproxy')) peers.push('haproxy');
  if (fs.existsSync(path.join(repoRoot, 'packages/netns/build/Release/mesh_netns.node'))) peers.push('ztunnel');
  return peers;
}

describe.skipIf(!isRoot)('bench --smoke', () => {
  it('measures every installed L4 peer in one short round and leaves no namespace or process behind', () => {
    const peers = installedPeers();
    const r = spawnSync(process.execPath, ['tools/bench.mjs', 'l4', '--smoke', '--peers', peers.join(',')], {
      cwd: repoRoot, encoding: 'utf8', timeout: SMOKE_TIMEOUT_MS,
    });
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    expect(r.stdout).toContain('BENCH RESULT {"l4":"ran"}');
    const rrTable = r.stdout.split('### ').find((s) => s.startsWith('1 KB request/response, 8 connections')) ?? '';
    for (const peer of peers) {
      // A row with a measured request rate (a number, not "—" or "not available").
      expect(rrTable).toMatch(new RegExp(`\\| ${peer} \\| \\d+`));
    }
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain(`mbench-${r.pid}-`);
    expect(spawnSync('pgrep', ['-f', `mbench-${r.pid}-`]).status).not.toBe(0);
  }, SMOKE_TIMEOUT_MS + 10_000);

  it('runs the control-plane, l7 and cni targets at tiny sizes, printing numbers or "not available: <reason>"', () => {
    const r = spawnSync(process.execPath, ['tools/bench.mjs', 'control-plane', 'l7', 'cni', '--smoke'], { cwd: repoRoot, encoding: 'utf8', timeout: SMOKE_TIMEOUT_MS });
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    const summary = JSON.parse(/BENCH RESULT (.*)/.exec(r.stdout)?.[1] ?? '{}');
    // Real istiod + clients on loopback need nothing but node: this one must run.
    expect(summary['control-plane'], r.stderr.slice(-2000)).toBe('ran');
    expect(r.stdout).toMatch(/\| initial sync of \d+ clients within 10 s \| [\d.]+ s \| [\d.]+x \| (met|not met) \|/);
    expect(r.stdout).toMatch(/\| changes reaching every client \| \d+ \/ \d+ \|/);
    expect(r.stdout).toMatch(/\| CA certificates\/s \| \d+/);
    for (const t of ['l7', 'cni']) expect(summary[t]).toMatch(/^(ran|not available: .+)$/);
    if (summary.l7 === 'ran') expect(r.stdout).toMatch(/\| waypoint( \(non-2xx: [^)]*\))? \| (\d+|not available)/);
    if (summary.cni === 'ran') expect(r.stdout).toMatch(/\| pod ADD p99 < 50 ms \| [\d.]+ ms/);
    expect(spawnSync('pgrep', ['-f', 'cp-clients.mjs|waypoint-node.mjs']).status).not.toBe(0);
  }, SMOKE_TIMEOUT_MS + 10_000);
});
