import type { Duplex } from 'node:stream';

interface WriteEntry {
  chunk: Buffer | string;
  encoding: BufferEncoding;
}
type WriteBatch = WriteEntry[] & { allBuffers?: boolean };
type WritevFn = (this: Duplex, chunks: WriteBatch, cb: (err?: Error | null) => void) => void;

/**
 * Node 20's Http2Stream hands a batched write to nghttp2 as one native request owned by its LAST
 * chunk. When that chunk carries no bytes (node:http ends a corked message with an empty string, e.g.
 * `res.end('body')` or `req.end('ping')`), the request completes at once and frees the storage of the
 * string chunks before nghttp2 has sent them: the peer receives malloc free-list bytes in place of the
 * first 16 bytes (a garbled HTTP/1 status or request line). Zero-byte chunks are dropped and strings are
 * turned into Buffers so no native string storage is involved. A batch of non-empty Buffers (the
 * `.pipe()` data path) is passed through untouched, without allocating.
 */
function guardedWritev(this: Duplex, chunks: WriteBatch, cb: (err?: Error | null) => void): void {
  const native = (Object.getPrototypeOf(this) as { _writev: WritevFn })._writev;
  if (!needsRewrite(chunks)) return native.call(this, chunks, cb);
  const safe: WriteBatch = [];
  for (const { chunk, encoding } of chunks) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk;
    if (buf.length > 0) safe.push({ chunk: buf, encoding: 'buffer' as BufferEncoding });
  }
  if (safe.length === 0) return cb(null);
  safe.allBuffers = true;
  native.call(this, safe, cb);
}

function needsRewrite(chunks: WriteBatch): boolean {
  for (const { chunk } of chunks) {
    if (typeof chunk === 'string' || chunk.length === 0) return true;
  }
  return false;
}

/**
 * Makes an HTTP/2 stream safe to hand out as a tunnel Duplex to any writer (node:http, TLS, pipes).
 * Own property, so only tunnels handed out by this library are affected; idempotent.
 */
export function guardTunnelWrites<T extends Duplex>(stream: T): T {
  (stream as unknown as { _writev: WritevFn })._writev = guardedWritev;
  return stream;
}
