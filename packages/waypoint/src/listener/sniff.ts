// Protocol detection on a tunnel's first bytes (Envoy's http_inspector in the waypoint's main_internal
// listener): the HTTP/2 connection preface, an HTTP/1.x request line, or anything else = opaque TCP.
import type { Duplex } from 'node:stream';

export type SniffedProtocol = 'h2' | 'http1' | 'tcp';

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const MAX_METHOD_BYTES = 16;
/** Istio's default protocol detection timeout is off for waypoints; a client-silent protocol still needs one. */
export const SNIFF_TIMEOUT_MS = 5_000;

/** 'more' when the bytes seen so far cannot decide yet. */
export function classify(buf: Buffer): SniffedProtocol | 'more' {
  const n = Math.min(buf.length, H2_PREFACE.length);
  if (buf.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) return buf.length >= H2_PREFACE.length ? 'h2' : 'more';
  for (let i = 0; i < buf.length && i <= MAX_METHOD_BYTES; i++) {
    const c = buf[i]!;
    if (c === 0x20) return i > 0 ? 'http1' : 'tcp';
    // RFC 9110 method token, in practice upper-case letters and '-'.
    if (!((c >= 0x41 && c <= 0x5a) || c === 0x2d)) return 'tcp';
  }
  return buf.length > MAX_METHOD_BYTES ? 'tcp' : 'more';
}

/**
 * Reads until the protocol is known, then puts the bytes back (unshift) and leaves the stream paused for the
 * next consumer. Resolves 'tcp' on timeout or an early end (server-first or empty protocols).
 */
export function sniff(tunnel: Duplex, timeoutMs = SNIFF_TIMEOUT_MS): Promise<SniffedProtocol> {
  return new Promise((resolve) => {
    let buf: Buffer = Buffer.alloc(0);
    const done = (p: SniffedProtocol): void => {
      clearTimeout(timer);
      tunnel.removeListener('readable', onReadable);
      tunnel.removeListener('end', onEnd);
      tunnel.removeListener('close', onEnd);
      if (buf.length > 0) tunnel.unshift(buf);
      resolve(p);
    };
    const onEnd = (): void => done('tcp');
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while ((chunk = tunnel.read() as Buffer | null) !== null) {
        buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
        const p = classify(buf);
        if (p !== 'more') return done(p);
      }
    };
    const timer = setTimeout(() => done('tcp'), timeoutMs);
    tunnel.on('readable', onReadable);
    tunnel.once('end', onEnd);
    tunnel.once('close', onEnd);
  });
}
