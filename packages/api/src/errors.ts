/**
 * Stable error codes raised by @mesh/api. Callers match on `code`, never on message text.
 */
export type ApiErrorCode =
  /** An Any carried a type URL other than the one the caller expected. */
  | 'API_ANY_TYPE_MISMATCH'
  /** An Any carried the expected type URL but its bytes are not a valid message of that type. */
  | 'API_ANY_DECODE'
  /** A service declares an RPC whose JS name collides with a helper member of the typed client. */
  | 'API_GRPC_RESERVED_METHOD';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: ApiErrorCode;

  constructor(code: ApiErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
