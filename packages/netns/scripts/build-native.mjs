#!/usr/bin/env node
// Builds build/Release/mesh_netns.node with node-gyp. npm 11 does not run dependency install
// scripts, so the addon is built explicitly (`npm run build:native -w @mesh/netns`).
// When Node's headers are installed system-wide (/usr/include/node) and no nodedir is configured,
// point node-gyp at them instead of letting it download a header tarball.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const pkgDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');

const args = [nodeGyp, 'rebuild', ...process.argv.slice(2)];
const configured = process.env.npm_config_nodedir || args.some((a) => a.startsWith('--nodedir'));
if (!configured && fs.existsSync('/usr/include/node/node_api.h')) args.push('--nodedir=/usr');

const result = spawnSync(process.execPath, args, { cwd: pkgDir, stdio: 'inherit' });
if (result.error) throw result.error;
process.exit(result.status ?? 1);
