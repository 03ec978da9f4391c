#!/usr/bin/env node
// Benchmark suite entry: `npm run bench -- [l4|l7|control-plane|cni] [--smoke] [--rounds N] [--peers a,b]`.
// The harness lives in bench/src (plain ESM, runs with node; the ztunnel pair is bundled with esbuild).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../bench/src/main.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
main(repoRoot, process.argv.slice(2)).then(() => process.exit(0), (err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
