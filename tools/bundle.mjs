#!/usr/bin/env node
// Bundles an app package into single-file ESM programs under packages/<app>/dist/.
// Usage: node tools/bundle.mjs <app-dir-name>   (entries come from package.json "mesh.entries")
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { installFile } from './install-file.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const app = process.argv[2];
if (!app) {
  process.stderr.write('usage: bundle.mjs <app>\n');
  process.exit(2);
}
const pkgDir = path.join(repoRoot, 'packages', app);
const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
const entries = pkg.mesh?.entries ?? {};
const outDir = path.join(pkgDir, 'dist');
fs.mkdirSync(outDir, { recursive: true });

// CommonJS dependencies (grpc-js, pino, ...) need a real `require` inside an ESM bundle.
const banner = [
  "import { createRequire as __meshCreateRequire } from 'node:module';",
  'const require = __meshCreateRequire(import.meta.url);',
].join('\n');

for (const [name, entry] of Object.entries(entries)) {
  const entryPath = path.join(pkgDir, entry);
  if (!fs.existsSync(entryPath)) continue; // the app has not grown this entry yet
  await build({
    entryPoints: [entryPath],
    outfile: path.join(outDir, `${name}.mjs`),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    sourcemap: 'linked',
    banner: { js: `#!/usr/bin/env node\n${banner}` },
    // Native addons are loaded at run time from beside the bundle (copied below).
    external: ['*.node'],
    logLevel: 'warning',
    legalComments: 'none',
  });
  fs.chmodSync(path.join(outDir, `${name}.mjs`), 0o755);
}

// Ship the native addon next to bundles that use @mesh/netns.
const addon = path.join(repoRoot, 'packages', 'netns', 'build', 'Release', 'mesh_netns.node');
if (pkg.dependencies?.['@mesh/netns'] && fs.existsSync(addon)) {
  // Replaced by rename, never rewritten in place: running ztunnels and CNI agents have it mapped.
  installFile(addon, path.join(outDir, 'mesh_netns.node'));
}
