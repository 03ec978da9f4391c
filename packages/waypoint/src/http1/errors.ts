// Errors of the HTTP/1.1 codec. The status is what a server answers for a malformed request (400, 431 for
// oversized heads, 505 for an unsupported version); a client treats any of them as an upstream reset.
export class Http1ParseError extends Error {
  readonly code = 'WAYPOINT_HTTP1_PARSE';

  constructor(readonly status: 400 | 431 | 505, message: string) {
    super(message);
  }
}
