#!/usr/bin/env node
/* global process */
// CNI ADD latency benchmark: plugin ADD (spawned as a runtime does) -> in-pod redirection -> ztunnel ack.
// Usage: node packages/cni/bench/add-latency.mjs [--pods N] [--concurrency C] [--json] [--rebuild] [--nftables]
//   --nftables: the agent programs pods with the native nftables backend (NATIVE_NFTABLES=true).
//   --json prints only the result object on stdout (progress goes to stderr either way).
// Needs root, iptables and iproute2. Creates netns mbench-<pid>-<i> and removes them on exit or SIGINT.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const pkgDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = path.resolve(pkgDir, '..', '..');
const pluginBundle = path.join(pkgDir, 'dist', 'istio-cni.mjs');
const addon = path.join(repoRoot, 'packages', 'netns', 'build', 'Release', 'mesh_netns.node');

const { values } = parseArgs({
  options: {
    pods: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
    rebuild: { type: 'boolean', default: false },
    nftables: { type: 'boolean', default: false },
  },
});
const pods = Number(values.pods);
const concurrency = Number(values.concurrency);
if (!Number.isInteger(pods) || pods < 1 || !Number.isInteger(concurrency) || concurrency < 1) {
  process.stderr.write('usage: add-latency.mjs [--pods N>=1] [--concurrency C>=1] [--json] [--rebuild]\n');
  process.exit(2);
}
const progress = (line) => process.stderr.write(`[cni-bench] ${line}\n`);

if (values.rebuild || !fs.existsSync(pluginBundle)) {
  progress('bundling the plugin (node tools/bundle.mjs cni)');
  execFileSync(process.execPath, [path.join(repoRoot, 'tools', 'bundle.mjs'), 'cni'], { stdio: 'inherit' });
}

// The harness is TypeScript importing the package source: bundle it like an app, addon beside it.
const outDir = fs.mkdtempSync(path.join(os.tmpdir(), `mbench-cni-harness-${process.pid}-`));
const outFile = path.join(outDir, 'harness.mjs');
await build({
  entryPoints: [path.join(pkgDir, 'bench', 'harness.ts')],
  outfile: outFile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  banner: { js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);" },
  external: ['*.node'],
  logLevel: 'warning',
});
fs.copyFileSync(addon, path.join(outDir, 'mesh_netns.node'));
const harness = await import(pathToFileURL(outFile).href);

let cleaning;
const cleanupAll = async () => {
  cleaning ??= harness.cleanup().finally(() => fs.rmSync(outDir, { recursive: true, force: true }));
  await cleaning;
};
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    progress(`${sig}: cleaning up`);
    void cleanupAll().finally(() => process.exit(130));
  });
}

let code = 0;
try {
  const result = await harness.runAddLatencyBench({ pods, concurrency, pluginPath: pluginBundle, progress, nativeNftables: values.nftables });
  const b = result.breakdown;
  process.stdout.write(`${JSON.stringify(result, null, values.json ? 0 : 2)}\n`);
  const summary =
    `cni add: n=${result.n} p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, mean ${result.meanMs} ms ` +
    `(agent p50 ${b.agent.p50Ms} / p99 ${b.agent.p99Ms} ms; plugin side p50 ${b.pluginSide.p50Ms} ms, of which Node startup ~${b.nodeStartup.p50Ms} ms) ` +
    `goal p99 < ${result.goal.p99Ms} ms: ${result.goal.met ? 'met' : 'NOT met'}`;
  if (values.json) progress(summary);
  else process.stdout.write(`${summary}\n`);
} catch (err) {
  progress(`failed: ${err instanceof Error ? err.stack : String(err)}`);
  code = 1;
} finally {
  await cleanupAll();
}
process.exit(code);
