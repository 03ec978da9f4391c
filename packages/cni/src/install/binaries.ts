import { accessSync, constants, statSync } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { atomicWrite } from './atomic-file';
import { ISTIO_CNI_PLUGIN_TYPE } from './cni-config';
import { CniInstallError } from './errors';

/** The bundled plugin (an ES module) next to its launcher in the bin dir. */
export const PLUGIN_SCRIPT_FILENAME = `${ISTIO_CNI_PLUGIN_TYPE}.mjs`;
/** Optional copy of the agent's own Node binary, for nodes without `node` on the runtime's PATH. */
export const PLUGIN_NODE_FILENAME = `${ISTIO_CNI_PLUGIN_TYPE}-node`;
const EXECUTABLE_MODE = 0o755;
/** CNI_NATIVE_PLUGIN_PATH value meaning "always the Node launcher" (the agent maps it to nativePluginPath false). */
export const NATIVE_PLUGIN_OFF = 'off';
/** Which implementation ended up as `istio-cni` in the bin dir. */
export type PluginKind = 'native' | 'node';

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
  /** The bundled plugin, dist/istio-cni.mjs (the fallback, and where the native lookup starts). */
  readonly pluginPath: string;
  /**
   * The native plugin (native-plugin/build/istio-cni): a path = install exactly that (missing = error);
   * false = never (Node launcher); undefined or '' = findNativePlugin. Library code reads no env: the
   * agent passes its CNI_NATIVE_PLUGIN_PATH here.
   */
  readonly nativePluginPath?: string | false;
  /** Path of a Node binary to copy as istio-cni-node (e.g. process.execPath); none = rely on PATH. */
  readonly nodeBinaryPath?: string;
}

export interface BinaryInstallResult {
  readonly kind: PluginKind;
  /** The file that was copied as `istio-cni` (native binary) or as istio-cni.mjs (Node plugin). */
  readonly source: string;
  readonly written: readonly string[];
}

/**
 * Installs `istio-cni` into the bin dir. Istio ships a static binary, so the native C build is
 * preferred: no Node startup per pod ADD and no dependency on the node having Node. Only when none
 * is built does the Node plugin go in behind a shell launcher. Every file goes via temp + rename, so
 * a runtime executing `istio-cni` mid-install runs the old or the new plugin, never a torn one.
 * Always rewritten (Istio copyBinaries: cheap and self-healing); the Node binary only when its size changed.
 */
export async function installPluginBinaries(opts: BinaryInstallOptions): Promise<BinaryInstallResult> {
  const native = resolveNativePlugin(opts);
  if (native !== undefined) {
    const written = [await put(opts.binDir, ISTIO_CNI_PLUGIN_TYPE, await readSource(native, 'native plugin'))];
    // Leftovers of an earlier Node install: harmless, but uninstall and operators should see one plugin.
    for (const name of [PLUGIN_SCRIPT_FILENAME, PLUGIN_NODE_FILENAME]) await rm(join(opts.binDir, name), { force: true });
    return { kind: 'native', source: native, written };
  }
  const script = await readSource(opts.pluginPath, 'bundled plugin');
  const written: string[] = [];
  if (opts.nodeBinaryPath !== undefined && !(await sameSize(opts.nodeBinaryPath, join(opts.binDir, PLUGIN_NODE_FILENAME)))) {
    written.push(await put(opts.binDir, PLUGIN_NODE_FILENAME, await readSource(opts.nodeBinaryPath, 'Node binary')));
  }
  written.push(await put(opts.binDir, PLUGIN_SCRIPT_FILENAME, script));
  written.push(await put(opts.binDir, ISTIO_CNI_PLUGIN_TYPE, launcherScript()));
  return { kind: 'node', source: opts.pluginPath, written };
}

function resolveNativePlugin(opts: BinaryInstallOptions): string | undefined {
  if (opts.nativePluginPath === false) return undefined;
  if (opts.nativePluginPath !== undefined && opts.nativePluginPath !== '') return opts.nativePluginPath;
  return findNativePlugin(nativePluginSearchDirs(opts.pluginPath));
}

/**
 * Where the native plugin is looked for: beside the bundled plugin (dist/, where the image copies it
 * next to cni-agent.mjs), beside this module or the entry script (the agent bundle), then the
 * package's native-plugin/build/ (source tree, bench scripts) relative to each of those.
 */
export function nativePluginSearchDirs(pluginPath: string): string[] {
  const bases = [dirname(pluginPath), dirname(fileURLToPath(import.meta.url)), ...(process.argv[1] ? [dirname(process.argv[1])] : [])];
  const buildDirs = bases.flatMap((d) => [join(d, '..', 'native-plugin', 'build'), join(d, '..', '..', 'native-plugin', 'build')]);
  return [...new Set([...bases, ...buildDirs])];
}

/** The first executable regular file named `istio-cni` in `dirs`, or undefined (then the Node launcher is used). */
export function findNativePlugin(dirs: readonly string[]): string | undefined {
  return dirs.map((d) => join(d, ISTIO_CNI_PLUGIN_TYPE)).find(isExecutableFile);
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function put(binDir: string, name: string, data: string | Uint8Array): Promise<string> {
  const path = join(binDir, name);
  try {
    await atomicWrite(path, data, EXECUTABLE_MODE);
  } catch (err) {
    throw new CniInstallError({ path, reason: (err as Error).message }, { cause: err });
  }
  return path;
}

async function readSource(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new CniInstallError({ path, reason: `cannot read the ${what}: ${(err as Error).message}` }, { cause: err });
  }
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
