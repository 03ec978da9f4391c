import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CniConfigInvalidError, CniConfigNotFoundError } from './errors';

/** The plugin `type` (and binary name) the runtime looks up in the bin dir. */
export const ISTIO_CNI_PLUGIN_TYPE = 'istio-cni';
/** Istio's default name for the Istio-owned chained config (ISTIO_OWNED_CNI_CONFIG_FILENAME). */
export const ISTIO_OWNED_CNI_CONFIG_FILENAME = '02-istio-cni.conflist';
/** Istio's default file name for the standalone (unchained) config; sorts last on purpose. */
export const UNCHAINED_CNI_CONFIG_FILENAME = 'YYY-istio-cni.conf';
/** cniVersion used when wrapping a `.conf` that does not declare one (Istio insertCNIConfig). */
const DEFAULT_WRAPPED_CNI_VERSION = '0.3.1';
/** Network name Istio gives a `.conf` it wraps into a list when the conf has no name. */
const DEFAULT_WRAPPED_NETWORK_NAME = 'k8s-pod-network';
const CONFIG_FILE_RE = /\.(conf|conflist)$/;

export type JsonObject = Record<string, unknown>;

export interface PrimaryConfig {
  readonly file: string;
  readonly path: string;
  /** The file's bytes as read (kept to restore it exactly on uninstall). */
  readonly text: string;
  /** The config as a list: a `.conf` is wrapped (Istio / libcni ConfListFromConf). */
  readonly list: JsonObject;
  readonly isConf: boolean;
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The config the runtime will use: the lexicographically first *.conf / *.conflist (kubelet and
 * libcni order), skipping files named in `skip` (our own) and, as Istio does, files with no plugin
 * (a `.conf` without `type`, a `.conflist` with an empty `plugins`). Unlike Istio, a file that is not
 * JSON is an error rather than skipped: it is most often the primary CNI caught mid-write, and
 * chaining into the next file would put istio-cni in a config the runtime does not use.
 */
export async function findPrimaryConfig(confDir: string, skip: ReadonlySet<string>, name?: string): Promise<PrimaryConfig> {
  let names: string[];
  try {
    names = await readdir(confDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new CniConfigNotFoundError({ confDir }, { cause: err });
    throw err;
  }
  for (const file of candidates(names, skip, name)) {
    const path = join(confDir, file);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      continue; // removed or a directory: the runtime cannot use it either
    }
    const parsed = parseConfig(path, text);
    const isConf = file.endsWith('.conf');
    if (isConf && typeof parsed['type'] !== 'string') continue;
    if (!isConf && (!Array.isArray(parsed['plugins']) || parsed['plugins'].length === 0)) continue;
    return { file, path, text, isConf, list: isConf ? wrapConf(parsed) : parsed };
  }
  throw new CniConfigNotFoundError({ confDir });
}

/** With an explicit name, that file (or its .conf/.conflist twin, as Istio accepts after a rename). */
function candidates(names: readonly string[], skip: ReadonlySet<string>, name: string | undefined): string[] {
  if (name) {
    const twin = name.endsWith('.conflist') ? name.slice(0, -4) : name.endsWith('.conf') ? `${name}list` : name;
    return [name, twin].filter((n, i, a) => names.includes(n) && a.indexOf(n) === i);
  }
  return names.filter((n) => CONFIG_FILE_RE.test(n) && !n.startsWith('.') && !skip.has(n)).sort();
}

export function parseConfig(path: string, text: string): JsonObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new CniConfigInvalidError({ file: path, reason: `invalid JSON: ${(err as Error).message}` }, { cause: err });
  }
  if (!isObject(parsed)) throw new CniConfigInvalidError({ file: path, reason: 'not a JSON object' });
  if (parsed['plugins'] !== undefined && !Array.isArray(parsed['plugins'])) {
    throw new CniConfigInvalidError({ file: path, reason: '"plugins" is not an array' });
  }
  return parsed;
}

/**
 * A single-plugin `.conf` as a `.conflist`. Istio moves cniVersion to the list (a plugin inside a list
 * must not carry its own) but pins it to 0.3.1; we keep the primary's version so plugins that only
 * speak newer versions keep working, and fall back to Istio's defaults when fields are missing.
 */
export function wrapConf(conf: JsonObject): JsonObject {
  const { cniVersion, ...plugin } = conf;
  return {
    cniVersion: typeof cniVersion === 'string' ? cniVersion : DEFAULT_WRAPPED_CNI_VERSION,
    name: typeof conf['name'] === 'string' ? conf['name'] : DEFAULT_WRAPPED_NETWORK_NAME,
    plugins: [plugin],
  };
}

function pluginsOf(list: JsonObject): unknown[] {
  const plugins = list['plugins'];
  return Array.isArray(plugins) ? plugins : [];
}

function isOurs(p: unknown): boolean {
  return isObject(p) && p['type'] === ISTIO_CNI_PLUGIN_TYPE;
}

/** Our plugin entry: Istio's keys plus fixed type/name; cniVersion belongs to the list. */
export function istioPluginEntry(pluginConfig: JsonObject): JsonObject {
  const { cniVersion: _ignored, ...rest } = pluginConfig;
  return { ...rest, type: ISTIO_CNI_PLUGIN_TYPE, name: ISTIO_CNI_PLUGIN_TYPE };
}

/** `list` with any previous istio-cni entry replaced by `entry`, appended last (Istio insertCNIConfig). */
export function withIstioPlugin(list: JsonObject, entry: JsonObject): JsonObject {
  return { ...list, plugins: [...pluginsOf(list).filter((p) => !isOurs(p)), entry] };
}

export function withoutIstioPlugin(list: JsonObject): JsonObject {
  return { ...list, plugins: pluginsOf(list).filter((p) => !isOurs(p)) };
}

export function hasIstioPlugin(list: JsonObject): boolean {
  return pluginsOf(list).some(isOurs);
}

export function serializeConfig(obj: JsonObject): string {
  return `${JSON.stringify(obj, null, 2)}\n`;
}
