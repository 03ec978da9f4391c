/**
 * Errors raised by the TypeScript side of @mesh/netns. Errors thrown by the native addon are plain
 * `Error`s whose `code` is the errno name ('EPERM', 'ENOENT', 'EINVAL', ...) and whose `syscall`
 * names the failing call; `isErrnoError` narrows either kind.
 */
export class NetnsError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NetnsError';
    this.code = code;
  }
}

/** The native addon could not be found or loaded. */
export class NetnsAddonMissingError extends NetnsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NETNS_ADDON_MISSING', message, options);
    this.name = 'NetnsAddonMissingError';
  }
}

export interface ErrnoError extends Error {
  code: string;
  syscall?: string;
  errno?: number;
}

export function isErrnoError(err: unknown): err is ErrnoError {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'string';
}

/** An errno-coded error for failures detected in JS (e.g. SO_ERROR after a non-blocking connect). */
export function errnoError(code: string, syscall: string, hint: string): ErrnoError {
  const err = new NetnsError(code, `${syscall} failed: ${code} — ${hint}`) as NetnsError & ErrnoError;
  err.syscall = syscall;
  return err;
}
