// Builds tools/helm-render (Go, against Debian's sprig under /usr/share/gocode) once per source change and
// renders charts with it, for tests and scripts. Needs Debian packages golang-go,
// golang-github-masterminds-sprig-dev and golang-gopkg-yaml.v2-dev (scripts/bootstrap.sh installs them).
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC_DIR = path.join(repoRoot, 'tools', 'helm-render');
const GOPATH = '/usr/share/gocode';

/** Compiles the renderer into a cache dir keyed by its sources; returns the binary path. */
export function buildRenderer() {
  const hash = createHash('sha256');
  for (const f of fs.readdirSync(SRC_DIR).filter((n) => n.endsWith('.go')).sort()) {
    hash.update(f).update(fs.readFileSync(path.join(SRC_DIR, f)));
  }
  const cacheDir = path.join(os.tmpdir(), 'mesh-helm-render');
  const bin = path.join(cacheDir, `helm-render-${hash.digest('hex').slice(0, 16)}`);
  if (fs.existsSync(bin)) return bin;
  fs.mkdirSync(cacheDir, { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  try {
    execFileSync('go', ['build', '-o', tmp, '.'], {
      cwd: SRC_DIR,
      env: { ...process.env, GOPATH, GO111MODULE: 'off', GOFLAGS: '', GOCACHE: path.join(cacheDir, 'gocache') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    const stderr = err.stderr?.toString() ?? '';
    throw new Error(`building tools/helm-render failed (is golang-go + golang-github-masterminds-sprig-dev installed? run scripts/bootstrap.sh): ${stderr || err.message}`);
  }
  fs.renameSync(tmp, bin);
  return bin;
}

/** `helm template NAME CHART -n NS -f ... --set ...` -> { text, docs: [{ source, object }] }. */
export function renderChart(bin, { name, chart, namespace = 'istio-system', values = [], set = [] }) {
  const args = ['--namespace', namespace];
  for (const v of values) args.push('--values', v);
  for (const s of set) args.push('--set', s);
  args.push(name, path.join(repoRoot, 'charts', chart));
  const text = execFileSync(bin, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  // helm-render prints each manifest as "---\n# Source: <chart>/templates/<file>\n<yaml>".
  const docs = text.split(/^---\n/m).filter((c) => c.trim() !== '').map((chunk) => {
    const source = /^# Source: (\S+)/.exec(chunk)?.[1] ?? '';
    return { source, object: parse(chunk, { uniqueKeys: true }) };
  });
  return { text, docs };
}
