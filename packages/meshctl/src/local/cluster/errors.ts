export type ClusterErrorCode =
  | 'CLUSTER_REPO_NOT_FOUND'
  | 'CLUSTER_NOT_UP'
  | 'CLUSTER_INVALID_MANIFEST'
  | 'CLUSTER_UNSUPPORTED'
  | 'CLUSTER_UNKNOWN_NODE'
  | 'CLUSTER_UNKNOWN_OBJECT'
  | 'CLUSTER_CNI_ADD_FAILED'
  | 'CLUSTER_COMPONENT_FAILED'
  | 'CLUSTER_TIMEOUT';

/** Every failure of the local cluster layer; `message` says what to check, `code` is for matching. */
export class ClusterError extends Error {
  readonly code: ClusterErrorCode;

  constructor(code: ClusterErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClusterError';
    this.code = code;
  }
}
