// Writing HTTP/1.1 heads and chunked framing. Header names and values are checked for CR, LF and NUL, as
// node:http does (ERR_INVALID_CHAR), so a value from a route's header ops cannot split a message.
export type OutgoingHeaders = Readonly<Record<string, string | number | readonly string[] | undefined>>;

export class InvalidHeaderError extends Error {
  readonly code = 'WAYPOINT_HTTP1_INVALID_HEADER';
}

const FORBIDDEN = /[\r\n\0]/;

function line(name: string, value: string): string {
  if (FORBIDDEN.test(value) || FORBIDDEN.test(name)) throw new InvalidHeaderError(`invalid character in header ${JSON.stringify(name)}`);
  return `${name}: ${value}\r\n`;
}

/** `start` = the request or status line with its CRLF; `extra` = framing fields the codec adds. */
export function serializeHead(start: string, headers: OutgoingHeaders, extra: string | undefined): Buffer {
  let s = start;
  for (const name in headers) {
    const v = headers[name];
    if (v === undefined) continue;
    if (typeof v === 'string') s += line(name, v);
    else if (typeof v === 'number') s += line(name, String(v));
    else for (const x of v) s += line(name, x);
  }
  if (extra !== undefined) s += extra;
  return Buffer.from(`${s}\r\n`, 'latin1');
}

export function encodeChunk(c: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${c.length.toString(16)}\r\n`, 'latin1'), c, CRLF]);
}

const CRLF = Buffer.from('\r\n');
export const LAST_CHUNK = Buffer.from('0\r\n\r\n');

/** The last chunk with trailer fields. */
export function lastChunkWithTrailers(trailers: OutgoingHeaders): Buffer {
  return serializeHead('0\r\n', trailers, undefined);
}
