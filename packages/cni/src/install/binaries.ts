import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { atomicWrite } from './atomic-file';
import { ISTIO_CNI_PLUGIN_TYPE } from './cni-config';
import { CniInstallError } from './errors';

/** The bundled plugin (an ES module) next to its launcher in the bin dir. */
export const PLUGIN_SCRIPT_FILENAME = `${ISTIO_CNI_PLUGIN_TYPE}.mjs`;
/** Optional copy of the agent's own Node binary, for nodes without `node` on the runtime's PATH. */
export const PLUGIN_NODE_FILENAME = `${ISTIO_CNI_PLUGIN_TYPE}-node`;
const EXECUTABLE_MODE = 0o755;

/**
 * Istio's plugin is a static Go binary; ours is a Node program, so the runtime executes a small POSIX
 * shell launcher named `istio-cni` that runs the copied `istio-cni.mjs` (an extensionless ESM file
 * would be loaded as CommonJS). It prefers a copied `istio-cni-node` binary, else `node` on the
 * runtime's PATH: the node needs Node >= 20 one way or the other. If neither exists the plugin exits
 * non-zero and the runtime fails ADD, so pods never start unredirected (fail closed).
 */
export function launcherScript(): string {
  return [
    '#!/bin/sh',
    '# istio-cni launcher (written by the mesh CNI agent): the plugin is a Node.js program.',
    '# Plain parameter expansion: runtimes may exec plugins with a PATH that has no coreutils.',
    'case "$0" in */*) dir=${0%/*} ;; *) dir=. ;; esac',
    `if [ -x "$dir/${PLUGIN_NODE_FILENAME}" ]; then exec "$dir/${PLUGIN_NODE_FILENAME}" "$dir/${PLUGIN_SCRIPT_FILENAME}" "$@"; fi`,
    `exec node "$dir/${PLUGIN_SCRIPT_FILENAME}" "$@"`,
    '',
  ].join('\n');
}

export interface BinaryInstallOptions {
  readonly binDir: string;
  /** The bundled plugin, dist/istio-cni.mjs. */
  readonly pluginPath: string;
  /** Path of a Node binary to copy as istio-cni-node (e.g. process.execPath); none = rely on PATH. */
  readonly nodeBinaryPath?: string;
}

/**
 * Copies the plugin into the bin dir, script first and launcher last, each via temp + rename, so a
 * runtime executing `istio-cni` mid-install runs either the old or the new plugin, never a torn one.
 * Always rewritten (Istio copyBinaries: cheap and self-healing); the Node binary only when its size changed.
 */
export async function installPluginBinaries(opts: BinaryInstallOptions): Promise<string[]> {
  const written: string[] = [];
  const put = async (name: string, data: string | Uint8Array): Promise<void> => {
    const path = join(opts.binDir, name);
    try {
      await atomicWrite(path, data, EXECUTABLE_MODE);
    } catch (err) {
      throw new CniInstallError({ path, reason: (err as Error).message }, { cause: err });
    }
    written.push(path);
  };
  let script: Buffer;
  try {
    script = await readFile(opts.pluginPath);
  } catch (err) {
    throw new CniInstallError({ path: opts.pluginPath, reason: `cannot read the bundled plugin: ${(err as Error).message}` }, { cause: err });
  }
  if (opts.nodeBinaryPath !== undefined && !(await sameSize(opts.nodeBinaryPath, join(opts.binDir, PLUGIN_NODE_FILENAME)))) {
    await put(PLUGIN_NODE_FILENAME, await readFile(opts.nodeBinaryPath));
  }
  await put(PLUGIN_SCRIPT_FILENAME, script);
  await put(ISTIO_CNI_PLUGIN_TYPE, launcherScript());
  return written;
}

/** Removes the launcher first, so the runtime stops finding the plugin before its script goes. */
export async function removePluginBinaries(binDir: string): Promise<void> {
  for (const name of [ISTIO_CNI_PLUGIN_TYPE, PLUGIN_SCRIPT_FILENAME, PLUGIN_NODE_FILENAME]) {
    await rm(join(binDir, name), { force: true });
  }
}

async function sameSize(a: string, b: string): Promise<boolean> {
  try {
    const [sa, sb] = await Promise.all([stat(a), stat(b)]);
    return sa.size === sb.size;
  } catch {
    return false;
  }
}
