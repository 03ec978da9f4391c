/**
 * Typed errors of the CNI redirection code. Match on `code`, never on the message.
 * (A local base until @mesh/core publishes MeshError; the shape is the same: code + cause.)
 */
export type CniErrorCode =
  | 'CNI_INVALID_CONFIG'
  | 'CNI_NETNS_NOT_FOUND'
  | 'CNI_IPTABLES_NOT_INSTALLED'
  | 'CNI_IPTABLES_FAILED'
  | 'CNI_NFTABLES_FAILED'
  | 'CNI_ROUTING_FAILED'
  | 'CNI_COMMAND_TIMEOUT';

export class CniRedirectionError extends Error {
  readonly code: CniErrorCode;
  /** stderr of the failed command, when one failed. */
  readonly stderr: string;
  /** argv of the failed command, when one failed. */
  readonly command: readonly string[];

  constructor(
    code: CniErrorCode,
    message: string,
    details: { stderr?: string; command?: readonly string[]; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'CniRedirectionError';
    this.code = code;
    this.stderr = details.stderr ?? '';
    this.command = details.command ?? [];
  }
}
