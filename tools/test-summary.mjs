#!/usr/bin/env node
// Adds up the vitest JSON reports written by scripts/test.sh and prints one closing line
// "tests: N passed, N failed[, N skipped]". Exits 1 when a test failed, a suite failed to load,
// or no report was found at all (a run that tested nothing must not look green).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const reports = [];
const walk = (dir, depth) => {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.git')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory() && depth < 3) walk(p, depth + 1);
    else if (e.name === '.vitest-results.json') reports.push(p);
  }
};
walk(root, 0);

let passed = 0, failed = 0, skipped = 0, brokenSuites = 0;
for (const file of reports) {
  const r = JSON.parse(fs.readFileSync(file, 'utf8'));
  passed += r.numPassedTests ?? 0;
  failed += r.numFailedTests ?? 0;
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  for (const s of r.testResults ?? []) {
    if (s.status === 'failed' && (s.assertionResults ?? []).length === 0) {
      brokenSuites += 1;
      process.stderr.write(`suite failed to run: ${path.relative(root, s.name)}: ${String(s.message).split('\n')[0]}\n`);
    }
  }
}
failed += brokenSuites;
process.stdout.write(`\ntests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
process.exit(failed > 0 || reports.length === 0 || passed === 0 ? 1 : 0);
