import { watch, type FSWatcher } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isMeshError, type Logger } from '@mesh/core';
import { atomicWrite } from './atomic-file';
import { installPluginBinaries, removePluginBinaries, type PluginKind } from './binaries';
import {
  findPrimaryConfig,
  hasIstioPlugin,
  ISTIO_OWNED_CNI_CONFIG_FILENAME,
  istioPluginEntry,
  serializeConfig,
  UNCHAINED_CNI_CONFIG_FILENAME,
  withIstioPlugin,
  withoutIstioPlugin,
  type JsonObject,
} from './cni-config';
import { CniConfigNotFoundError } from './errors';

/** fs.watch can miss events (overlay/hostPath mounts, renames): a periodic check bounds the drift. */
export const CNI_CONFIG_CHECK_INTERVAL_MS = 5_000;
/** Primary CNIs rewrite their file in bursts; check once after the burst. */
const WATCH_DEBOUNCE_MS = 50;
/** cniVersion of the standalone (unchained) config; the plugin speaks 1.0 and 1.1. */
const UNCHAINED_CNI_VERSION = '1.0.0';

export interface CniInstallOptions {
  /** Host CNI bin dir as mounted in the agent (Istio /host/opt/cni/bin). */
  readonly binDir: string;
  /** Host CNI config dir as mounted in the agent (Istio MOUNTED_CNI_NET_DIR). */
  readonly confDir: string;
  /** The bundled Node plugin, dist/istio-cni.mjs: installed only when there is no native plugin. */
  readonly pluginPath: string;
  /**
   * The native plugin binary: a path = that file (error if unreadable), false = always the Node
   * launcher, undefined = beside pluginPath / the agent, then native-plugin/build/ (the agent maps
   * CNI_NATIVE_PLUGIN_PATH onto this).
   */
  readonly nativePluginPath?: string | false;
  /** Append to the primary CNI's list (Istio CHAINED_CNI_PLUGIN, default true). */
  readonly chained?: boolean;
  /** Chained, but into our own copy `02-istio-cni.conflist` instead of editing the primary's file. */
  readonly istioOwnedCniConfig?: boolean;
  /** Primary config file name; empty = the first one, as the runtime picks it (Istio CNI_CONF_NAME). */
  readonly cniConfName?: string;
  /** Istio plugin keys (ambient_enabled, exclude_namespaces, cni_agent_run_dir, ...). */
  readonly pluginConfig?: JsonObject;
  /** Also copy this Node binary as istio-cni-node (nodes without node on PATH). */
  readonly nodeBinaryPath?: string;
  readonly checkIntervalMs?: number;
  readonly logger?: Logger;
}

export interface InstallResult {
  /** The config file that now holds istio-cni. */
  readonly configPath: string;
  /** False when everything was already in place (nothing in the conf dir was written). */
  readonly changed: boolean;
  /** Which implementation is installed as `istio-cni`: the native binary or the Node launcher. */
  readonly plugin: PluginKind;
}

interface FileState {
  readonly path: string;
  readonly text: string;
}

/**
 * Installs the istio-cni plugin on the node and keeps it installed (Istio cni/pkg/install): copies
 * the plugin into the bin dir, chains it into the CNI config the runtime uses, and re-applies when
 * the primary CNI rewrites its file. Writing is idempotent: an already-correct config is not touched,
 * so our own writes (and other agents watching the dir) do not cause churn.
 */
export class CniInstaller {
  readonly #o: CniInstallOptions;
  readonly #entry: JsonObject;
  /** The primary config exactly as the primary CNI wrote it, before we added ourselves. */
  #original: FileState | undefined;
  /** What we last wrote there; uninstall restores #original only if this is still what is on disk. */
  #written: FileState | undefined;
  #installed = false;
  /** What the bin dir got last time, so the choice is logged when it is made or changes, not every pass. */
  #pluginKind: PluginKind | undefined;
  #watcher: FSWatcher | undefined;
  #interval: NodeJS.Timeout | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #running: Promise<unknown> = Promise.resolve();
  #stopped = false;

  constructor(opts: CniInstallOptions) {
    this.#o = opts;
    this.#entry = istioPluginEntry(opts.pluginConfig ?? {});
  }

  /** True once an install succeeded (Istio marks the agent ready only then). */
  get installed(): boolean {
    return this.#installed;
  }

  /** One install pass; throws CniConfigNotFoundError in chained mode while there is no primary config. */
  async install(): Promise<InstallResult> {
    const o = this.#o;
    const bin = await installPluginBinaries({ binDir: o.binDir, pluginPath: o.pluginPath, nativePluginPath: o.nativePluginPath, nodeBinaryPath: o.nodeBinaryPath });
    if (bin.kind !== this.#pluginKind) {
      const msg = bin.kind === 'native' ? 'installed the native istio-cni plugin' : 'no native istio-cni plugin found; installed the Node plugin behind a shell launcher';
      o.logger?.info({ plugin: bin.kind, source: bin.source, binDir: o.binDir }, msg);
      this.#pluginKind = bin.kind;
    }
    const result = { ...(await this.#installConfig()), plugin: bin.kind };
    this.#installed = true;
    if (result.changed) o.logger?.info({ config: result.configPath }, 'istio-cni plugin installed');
    return result;
  }

  async #installConfig(): Promise<Omit<InstallResult, 'plugin'>> {
    const dir = this.#o.confDir;
    if (this.#o.chained === false) {
      const entry = { cniVersion: UNCHAINED_CNI_VERSION, ...this.#entry };
      return writeIfDifferent(join(dir, this.#o.cniConfName || UNCHAINED_CNI_CONFIG_FILENAME), serializeConfig(entry));
    }
    const primary = await findPrimaryConfig(dir, new Set([ISTIO_OWNED_CNI_CONFIG_FILENAME, UNCHAINED_CNI_CONFIG_FILENAME]), this.#o.cniConfName);
    const desired = withIstioPlugin(primary.list, this.#entry);
    if (this.#o.istioOwnedCniConfig) {
      if (primary.file < ISTIO_OWNED_CNI_CONFIG_FILENAME) {
        this.#o.logger?.warn({ primary: primary.file }, `${ISTIO_OWNED_CNI_CONFIG_FILENAME} sorts after the primary config, so the runtime will not use it`);
      }
      return writeIfDifferent(join(dir, ISTIO_OWNED_CNI_CONFIG_FILENAME), serializeConfig(desired));
    }
    if (!primary.isConf && JSON.stringify(desired) === JSON.stringify(primary.list)) {
      return { configPath: primary.path, changed: false };
    }
    if (!hasIstioPlugin(primary.list)) this.#original = { path: primary.path, text: primary.text };
    // A .conf cannot hold a chain: write the list as <name>.conflist and drop the .conf (Istio writeCNIConfig).
    const target = primary.isConf ? `${primary.path}list` : primary.path;
    const text = serializeConfig(desired);
    await atomicWrite(target, text);
    if (primary.isConf) await rm(primary.path, { force: true });
    this.#written = { path: target, text };
    return { configPath: target, changed: true };
  }

  /**
   * Removes our config entry (or file) and the binaries (Istio Installer.Cleanup). If the primary's file
   * is still exactly what we wrote, its original bytes come back (a wrapped .conf becomes the .conf again);
   * if the primary rewrote it meanwhile, only our entry is taken out.
   */
  async uninstall(): Promise<void> {
    await this.stop();
    const dir = this.#o.confDir;
    if (this.#o.chained === false) await rm(join(dir, this.#o.cniConfName || UNCHAINED_CNI_CONFIG_FILENAME), { force: true });
    else if (this.#o.istioOwnedCniConfig) await rm(join(dir, ISTIO_OWNED_CNI_CONFIG_FILENAME), { force: true });
    else await this.#unchain();
    await removePluginBinaries(this.#o.binDir);
    this.#installed = false;
    this.#o.logger?.info('istio-cni plugin uninstalled');
  }

  async #unchain(): Promise<void> {
    const written = this.#written;
    const original = this.#original;
    if (written && original && (await readText(written.path)) === written.text) {
      await atomicWrite(original.path, original.text);
      if (original.path !== written.path) await rm(written.path, { force: true });
      this.#written = undefined;
      return;
    }
    let primary;
    try {
      primary = await findPrimaryConfig(this.#o.confDir, new Set(), this.#o.cniConfName);
    } catch (err) {
      if (isMeshError(err, CniConfigNotFoundError.code)) return;
      throw err;
    }
    if (hasIstioPlugin(primary.list)) await atomicWrite(primary.path, serializeConfig(withoutIstioPlugin(primary.list)));
  }

  /**
   * Installs now and keeps re-checking on conf-dir changes and every checkIntervalMs, waiting (as Istio
   * does) while chained mode has no primary config. Failures are logged and retried, never thrown.
   */
  start(): void {
    this.#stopped = false;
    try {
      this.#watcher = watch(this.#o.confDir, () => this.#schedule());
      this.#watcher.on('error', (err) => this.#o.logger?.warn({ err }, 'CNI config dir watch failed; relying on periodic checks'));
    } catch (err) {
      this.#o.logger?.warn({ err, dir: this.#o.confDir }, 'cannot watch the CNI config dir; relying on periodic checks');
    }
    this.#interval = setInterval(() => this.#schedule(), this.#o.checkIntervalMs ?? CNI_CONFIG_CHECK_INTERVAL_MS);
    void this.reconcile();
  }

  /** One serialized install pass that logs instead of throwing; resolves when it is done. */
  reconcile(): Promise<void> {
    const next = this.#running.then(async () => {
      if (this.#stopped) return;
      try {
        await this.install();
      } catch (err) {
        if (isMeshError(err, CniConfigNotFoundError.code)) this.#o.logger?.info({ dir: this.#o.confDir }, 'waiting for the primary CNI config');
        else this.#o.logger?.error({ err }, 'istio-cni install failed; will retry');
      }
    });
    this.#running = next;
    return next;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#watcher?.close();
    this.#watcher = undefined;
    clearInterval(this.#interval);
    clearTimeout(this.#debounce);
    await this.#running;
  }

  #schedule(): void {
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => void this.reconcile(), WATCH_DEBOUNCE_MS);
  }
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

async function writeIfDifferent(path: string, text: string): Promise<Omit<InstallResult, 'plugin'>> {
  if ((await readText(path)) === text) return { configPath: path, changed: false };
  await atomicWrite(path, text);
  return { configPath: path, changed: true };
}
