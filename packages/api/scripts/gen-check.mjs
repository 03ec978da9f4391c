// Regenerates the protobuf code into a temporary directory and compares it with the committed
// src/gen. Exits 1 naming every differing, missing or extra file, so CI catches hand edits and
// .proto changes that were not regenerated.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const PKG_DIR = resolve(fileURLToPath(import.meta.url), '../..');
const BUF_BIN = resolve(PKG_DIR, '../../node_modules/.bin/buf');
const GEN_SUBDIR = 'src/gen';

function listFiles(dir) {
  const out = [];
  const walk = (d) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

function diffTrees(expectedDir, actualDir) {
  const expected = listFiles(expectedDir);
  const actual = new Set(listFiles(actualDir));
  const problems = [];
  for (const f of expected) {
    if (!actual.has(f)) problems.push(`missing   ${GEN_SUBDIR}/${f}`);
    else if (!readFileSync(join(expectedDir, f)).equals(readFileSync(join(actualDir, f)))) {
      problems.push(`differs   ${GEN_SUBDIR}/${f}`);
    }
    actual.delete(f);
  }
  for (const f of actual) problems.push(`extra     ${GEN_SUBDIR}/${f}`);
  return problems;
}

const tmp = mkdtempSync(join(tmpdir(), 'mesh-api-gen-'));
try {
  execFileSync(BUF_BIN, ['generate', '--output', tmp], { cwd: PKG_DIR, stdio: 'inherit' });
  const problems = diffTrees(join(tmp, GEN_SUBDIR), join(PKG_DIR, GEN_SUBDIR));
  if (problems.length > 0) {
    console.error('generated code is out of date (run `npm run gen -w @mesh/api` and commit):');
    for (const p of problems) console.error(`  ${p}`);
    process.exitCode = 1;
  } else {
    console.log(`${GEN_SUBDIR} is up to date`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
