#!/usr/bin/env node
// Builds native-plugin/build/mesh-netns-exec (the agent's netns command runner) with the system C
// compiler. Optional at runtime: without it the agent falls back to one nsenter per command.
// Usage: node packages/cni/scripts/build-native-plugin.mjs   (or npm run build:native-plugin -w @mesh/cni)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const srcDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'native-plugin');
const outDir = path.join(srcDir, 'build');
fs.mkdirSync(outDir, { recursive: true });
const out = path.join(outDir, 'mesh-netns-exec');
const tmp = `${out}.${process.pid}.tmp`;
const cc = process.env.CC || 'cc';
const args = ['-O2', '-Wall', '-Wextra', '-Werror', '-std=c11', '-o', tmp, path.join(srcDir, 'netns-exec.c')];
const result = spawnSync(cc, args, { stdio: 'inherit' });
if (result.error) throw result.error;
if (result.status !== 0) process.exit(result.status ?? 1);
fs.renameSync(tmp, out); // atomic: a running agent never executes a half-written helper
