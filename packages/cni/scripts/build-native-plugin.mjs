#!/usr/bin/env node
// Builds, with the system C compiler, into native-plugin/build/:
//   mesh-netns-exec  the agent's netns command runner (optional: else one nsenter per command);
//   istio-cni        the native CNI plugin (same behaviour as src/plugin, which stays the reference).
// Usage: node packages/cni/scripts/build-native-plugin.mjs   (or npm run build:native-plugin -w @mesh/cni)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const srcDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'native-plugin');
const outDir = path.join(srcDir, 'build');
fs.mkdirSync(outDir, { recursive: true });
const cc = process.env.CC || 'cc';
const FLAGS = ['-O2', '-Wall', '-Wextra', '-Werror', '-std=gnu11'];

function build(name, sources) {
  const out = path.join(outDir, name);
  const tmp = `${out}.${process.pid}.tmp`;
  const result = spawnSync(cc, [...FLAGS, '-o', tmp, ...sources.map((s) => path.join(srcDir, s))], { stdio: 'inherit' });
  if (result.error) throw result.error;
  if (result.status !== 0) process.exit(result.status ?? 1);
  fs.renameSync(tmp, out); // atomic: a running agent or runtime never executes a half-written binary
}

build('mesh-netns-exec', ['netns-exec.c', 'netns-exec-netlink.c']);
build('istio-cni', ['istio-cni.c', 'json.c']);
