/** Stable codes for every failure of the local network layer; match on `code`, never on message text. */
export type LocalNetErrorCode =
  | 'LOCAL_NET_COMMAND_FAILED'
  | 'LOCAL_NET_NOT_ROOT'
  | 'LOCAL_NET_BAD_NAME'
  | 'LOCAL_NET_UNKNOWN_NODE'
  | 'LOCAL_NET_UNKNOWN_POD'
  | 'LOCAL_NET_POD_CIDR_FULL'
  | 'LOCAL_NET_VIP_EXHAUSTED'
  | 'LOCAL_NET_STATE_CORRUPT'
  | 'LOCAL_NET_NOT_UP'
  | 'LOCAL_NET_LOCKED'
  | 'LOCAL_NET_SPAWN_FAILED';

export class LocalNetError extends Error {
  readonly code: LocalNetErrorCode;

  constructor(code: LocalNetErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LocalNetError';
    this.code = code;
  }
}

/** A child command (ip, iptables-restore, ...) exited non-zero or could not start. */
export class CommandError extends LocalNetError {
  readonly argv: readonly string[];
  readonly exitCode: number | null;
  readonly stderr: string;

  constructor(argv: readonly string[], exitCode: number | null, stderr: string, cause?: unknown) {
    const hint =
      exitCode === null
        ? 'check that iproute2 and iptables are installed and on PATH'
        : 'check that you are root and the kernel allows network namespaces';
    super(
      'LOCAL_NET_COMMAND_FAILED',
      `command failed (exit ${String(exitCode)}): ${argv.join(' ')}: ${stderr.trim() || '(no stderr)'}; ${hint}`,
      { cause },
    );
    this.name = 'CommandError';
    this.argv = argv;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}
