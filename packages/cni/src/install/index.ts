export { CniInstaller, CNI_CONFIG_CHECK_INTERVAL_MS, type CniInstallOptions, type InstallResult } from './installer';
export {
  findNativePlugin,
  launcherScript,
  NATIVE_PLUGIN_OFF,
  nativePluginSearchDirs,
  PLUGIN_NODE_FILENAME,
  PLUGIN_SCRIPT_FILENAME,
  type PluginKind,
} from './binaries';
export {
  findPrimaryConfig,
  ISTIO_CNI_PLUGIN_TYPE,
  ISTIO_OWNED_CNI_CONFIG_FILENAME,
  UNCHAINED_CNI_CONFIG_FILENAME,
  wrapConf,
  type JsonObject,
  type PrimaryConfig,
} from './cni-config';
export { CniConfigInvalidError, CniConfigNotFoundError, CniInstallError } from './errors';

import { CniInstaller, type CniInstallOptions, type InstallResult } from './installer';

/** One-shot install (see CniInstaller); returns the installer so the caller can uninstall or keep watching. */
export async function installCniPlugin(opts: CniInstallOptions): Promise<{ installer: CniInstaller; result: InstallResult }> {
  const installer = new CniInstaller(opts);
  return { installer, result: await installer.install() };
}

/**
 * Removes istio-cni without the installing process's memory (e.g. from a new agent): takes our entry
 * out of the primary list (or removes our own file) and deletes the binaries. An installer that did
 * the install should be used instead when possible: it restores the primary's original bytes.
 */
export async function uninstallCniPlugin(opts: CniInstallOptions): Promise<void> {
  await new CniInstaller(opts).uninstall();
}
