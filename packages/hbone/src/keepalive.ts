import type { Http2Session } from 'node:http2';
import { HboneError } from './errors';

export interface KeepaliveOptions {
  intervalMs: number;
  timeoutMs: number;
}

/**
 * HTTP/2 PING keepalive as hyper does for ztunnel: one PING per interval, and the session is
 * destroyed when an ack does not arrive within the timeout (a dead peer or a black-holed path).
 * Timers are unref'd so an idle pool never keeps the process alive.
 */
export function startKeepalive(session: Http2Session, opts: KeepaliveOptions): void {
  let deadline: NodeJS.Timeout | undefined;
  let outstanding = false;
  const onAck = (): void => {
    outstanding = false;
    if (deadline) clearTimeout(deadline);
  };
  const tick = (): void => {
    if (outstanding || session.destroyed || session.closed) return;
    if (!session.ping(onAck)) return;
    outstanding = true;
    deadline = setTimeout(() => {
      session.destroy(
        new HboneError(
          'HBONE_KEEPALIVE_TIMEOUT',
          `HBONE peer did not answer PING within ${opts.timeoutMs} ms; check the peer is alive and the path is not dropping packets`,
        ),
      );
    }, opts.timeoutMs);
    deadline.unref();
  };
  const interval = setInterval(tick, opts.intervalMs);
  interval.unref();
  session.once('close', () => {
    clearInterval(interval);
    if (deadline) clearTimeout(deadline);
  });
}
