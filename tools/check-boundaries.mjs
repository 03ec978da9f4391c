#!/usr/bin/env node
// Enforces the dependency rules of CONVENTIONS.md across the workspace. Exits 1 on any violation.
//  1. apps never import apps; libraries never import apps;
//  2. a @mesh package is imported only through its public entry ("@mesh/x", never "@mesh/x/...");
//  3. relative imports never leave the package they are written in;
//  4. every @mesh import is declared in the importing package's dependencies;
//  5. no import cycles between packages.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const IMPORT_RE = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;(=])import\s*\(\s*['"]([^'"]+)['"]\s*\)|(?:^|[\s;])import\s*['"]([^'"]+)['"]|require\(\s*['"]([^'"]+)['"]\s*\)/g;

export function loadWorkspace(root) {
  const dirs = [];
  for (const base of ['packages']) {
    const abs = path.join(root, base);
    if (!fs.existsSync(abs)) continue;
    for (const d of fs.readdirSync(abs)) {
      if (fs.existsSync(path.join(abs, d, 'package.json'))) dirs.push(path.join(abs, d));
    }
  }
  if (fs.existsSync(path.join(root, 'e2e', 'package.json'))) dirs.push(path.join(root, 'e2e'));
  return dirs.map((dir) => {
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    return { dir, name: pkg.name, kind: pkg.mesh?.kind ?? 'test', deps: { ...pkg.dependencies, ...pkg.devDependencies } };
  });
}

function sourceFiles(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (['node_modules', 'dist', 'build', 'gen'].includes(e.name)) continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|mts|cts|js|mjs)$/.test(e.name)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

export function importsOf(text) {
  const specs = [];
  const stripped = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
  for (const m of stripped.matchAll(IMPORT_RE)) specs.push(m[1] ?? m[2] ?? m[3] ?? m[4]);
  return specs;
}

export function check(root) {
  const pkgs = loadWorkspace(root);
  const byName = new Map(pkgs.map((p) => [p.name, p]));
  const problems = [];
  const edges = new Map(pkgs.map((p) => [p.name, new Set()]));
  for (const p of pkgs) {
    for (const file of sourceFiles(p.dir)) {
      const rel = path.relative(root, file);
      const isTest = /\.test\.ts$|\/test\//.test(rel);
      for (const spec of importsOf(fs.readFileSync(file, 'utf8'))) {
        if (spec.startsWith('.')) {
          const target = path.resolve(path.dirname(file), spec);
          if (!target.startsWith(p.dir + path.sep)) problems.push(`${rel}: relative import '${spec}' leaves package ${p.name}; import its public entry instead`);
          continue;
        }
        const m = /^(@mesh\/[^/]+)(\/.*)?$/.exec(spec);
        if (!m) continue;
        const [, target, deep] = m;
        if (deep) problems.push(`${rel}: deep import '${spec}'; import '${target}' (its public entry) instead`);
        const dep = byName.get(target);
        if (!dep) { problems.push(`${rel}: '${target}' is not a workspace package`); continue; }
        if (target === p.name) continue;
        if (dep.kind === 'app' && p.kind !== 'test') problems.push(`${rel}: ${p.kind} ${p.name} imports app ${target}; apps meet only through protos on the wire`);
        if (!p.deps[target]) problems.push(`${rel}: imports ${target} but ${p.name}'s package.json does not declare it`);
        if (!isTest) edges.get(p.name).add(target);
      }
    }
  }
  // Cycle detection over package edges.
  const state = new Map();
  const stack = [];
  const visit = (n) => {
    state.set(n, 1); stack.push(n);
    for (const m of edges.get(n) ?? []) {
      if (state.get(m) === 1) problems.push(`import cycle: ${[...stack.slice(stack.indexOf(m)), m].join(' -> ')}`);
      else if (!state.has(m)) visit(m);
    }
    stack.pop(); state.set(n, 2);
  };
  for (const n of edges.keys()) if (!state.has(n)) visit(n);
  return problems;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = process.argv[2] ? path.resolve(process.argv[2]) : path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const problems = check(root);
  if (problems.length) {
    process.stderr.write(`module boundary check failed (${problems.length}):\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
    process.exit(1);
  }
  process.stdout.write(`module boundaries ok (${loadWorkspace(root).length} packages)\n`);
}
