import { defineMeshError } from '@mesh/core';

/**
 * Chained mode found no primary CNI config yet (Istio getCNIConfigFilepath waits for one): the
 * installer retries when the directory changes; the caller may treat it as "not ready yet".
 */
export const CniConfigNotFoundError = defineMeshError(
  'CNI_CONFIG_NOT_FOUND',
  'CniConfigNotFoundError',
  (d: { confDir: string }) =>
    `no primary CNI network config (*.conf or *.conflist with a plugin) in ${d.confDir} yet; is the cluster's primary CNI (kindnet, calico, ...) running on this node?`,
);

/** The primary CNI config is not valid JSON or not a CNI config: nothing is written. */
export const CniConfigInvalidError = defineMeshError(
  'CNI_CONFIG_INVALID',
  'CniConfigInvalidError',
  (d: { file: string; reason: string }) =>
    `CNI network config ${d.file} is not usable (${d.reason}); nothing was written. Check the file, or whether the primary CNI is still writing it`,
);

/** Copying the plugin or writing a config file failed. */
export const CniInstallError = defineMeshError(
  'CNI_INSTALL_FAILED',
  'CniInstallError',
  (d: { path: string; reason: string }) =>
    `cannot install istio-cni at ${d.path}: ${d.reason}; is the host directory mounted read-write into the agent?`,
);
