/**
 * Typed errors for HBONE. Callers match on `code`, never on message text.
 * Messages say what the operator should check, in the style of ztunnel's errors.
 */
export type HboneErrorCode =
  | 'HBONE_BAD_AUTHORITY'
  | 'HBONE_CONNECT_REFUSED'
  | 'HBONE_CONNECT_TIMEOUT'
  | 'HBONE_CONNECTION_FAILED'
  | 'HBONE_IDENTITY_MISMATCH'
  | 'HBONE_KEEPALIVE_TIMEOUT'
  | 'HBONE_POOL_CLOSED'
  | 'HBONE_STREAM_FAILED'
  | 'HBONE_TLS_FAILED';

export class HboneError extends Error {
  readonly code: HboneErrorCode;

  constructor(code: HboneErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HboneError';
    this.code = code;
  }
}

/** The peer answered the CONNECT with a non-200 status (400 bad request, 401 denied, 503 unavailable). */
export class HboneConnectRefusedError extends HboneError {
  readonly status: number;

  constructor(status: number, authority: string) {
    super(
      'HBONE_CONNECT_REFUSED',
      `HBONE CONNECT to ${authority} was answered with HTTP ${status}` +
        (status === 401
          ? ' (denied by the destination authorization policy; check AuthorizationPolicy)'
          : status === 503
            ? ' (destination could not reach the application; check the workload is running and listening)'
            : status === 400
              ? ' (destination rejected the request; check the target address belongs to the destination pod)'
              : ''),
    );
    this.name = 'HboneConnectRefusedError';
    this.status = status;
  }
}

export function isHboneError(err: unknown): err is HboneError {
  return err instanceof HboneError;
}
