/**
 * CNI spec (1.0/1.1) well-known error codes. 100+ are plugin-specific.
 * https://github.com/containernetworking/cni/blob/main/SPEC.md#error
 */
export const CNI_ERR_INCOMPATIBLE_VERSION = 1;
export const CNI_ERR_UNSUPPORTED_FIELD = 2;
export const CNI_ERR_INVALID_ENV = 4;
export const CNI_ERR_DECODE = 6;
export const CNI_ERR_INVALID_NETWORK_CONFIG = 7;
export const CNI_ERR_TRY_AGAIN_LATER = 11;
/** Plugin-specific: an unexpected internal failure (a bug), never a policy decision. */
export const CNI_ERR_INTERNAL = 100;

/** A failure reported to the runtime as the CNI error JSON on stdout (and a non-zero exit). */
export class CniPluginError extends Error {
  constructor(
    readonly cniCode: number,
    message: string,
    readonly details = '',
  ) {
    super(message);
    this.name = 'CniPluginError';
  }
}

export interface CniErrorJson {
  readonly cniVersion: string;
  readonly code: number;
  readonly msg: string;
  readonly details?: string;
}

export function cniErrorJson(err: CniPluginError, cniVersion: string): CniErrorJson {
  return { cniVersion, code: err.cniCode, msg: err.message, ...(err.details ? { details: err.details } : {}) };
}
