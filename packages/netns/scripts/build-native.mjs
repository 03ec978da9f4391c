#!/usr/bin/env node
// Builds build/Release/mesh_netns.node with node-gyp. npm 11 does not run dependency install
// scripts, so the addon is built explicitly (`npm run build:native -w @mesh/netns`).
// When Node's headers are installed system-wide (/usr/include/node) and no nodedir is configured,
// point node-gyp at them instead of letting it download a header tarball.
//
// node-gyp compiles in a scratch copy of the sources and the result is installed by rename: tests and
// components may have build/Release/mesh_netns.node loaded (dlopen maps the file), and rewriting or even
// briefly deleting it under them would crash them or make a concurrent load fail.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const pkgDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');
const ADDON = 'mesh_netns.node';

const args = [nodeGyp, 'rebuild', ...process.argv.slice(2)];
const configured = process.env.npm_config_nodedir || args.some((a) => a.startsWith('--nodedir'));
if (!configured && fs.existsSync('/usr/include/node/node_api.h')) args.push('--nodedir=/usr');

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'mesh-netns-build-'));
let status = 1;
try {
  fs.copyFileSync(path.join(pkgDir, 'binding.gyp'), path.join(scratch, 'binding.gyp'));
  fs.cpSync(path.join(pkgDir, 'native'), path.join(scratch, 'native'), { recursive: true });
  const result = spawnSync(process.execPath, args, { cwd: scratch, stdio: 'inherit' });
  if (result.error) throw result.error;
  status = result.status ?? 1;
  if (status === 0) {
    const destDir = path.join(pkgDir, 'build', 'Release');
    fs.mkdirSync(destDir, { recursive: true });
    const tmp = path.join(destDir, `${ADDON}.${process.pid}.tmp`);
    fs.copyFileSync(path.join(scratch, 'build', 'Release', ADDON), tmp);
    fs.chmodSync(tmp, 0o755);
    fs.renameSync(tmp, path.join(destDir, ADDON));
  }
} finally {
  fs.rmSync(scratch, { recursive: true, force: true });
}
process.exit(status);
