import type { ClientHttp2Session } from 'node:http2';
import { startKeepalive, type KeepaliveOptions } from '../keepalive';
import { establishSession, type EstablishOptions } from './establish';

export type ConnectionState = 'connecting' | 'ready' | 'draining' | 'closed';

let nextConnectionId = 1;

/**
 * One pooled HTTP/2 connection. `active` counts open streams; `waiting` counts requests that joined
 * while the handshake was in flight, so concurrent first requests share one connection.
 */
export class PooledConnection {
  readonly id = nextConnectionId++;
  state: ConnectionState = 'connecting';
  active = 0;
  waiting = 0;
  capacity: number;
  session: ClientHttp2Session | undefined;
  readonly ready: Promise<void>;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly maxStreams: number,
    private readonly idleReleaseMs: number,
    private readonly keepalive: KeepaliveOptions,
    /** Called with final=false when it stops taking streams, final=true once closed. */
    private readonly onGone: (conn: PooledConnection, final: boolean) => void,
    establish: Omit<EstablishOptions, 'maxStreams'>,
  ) {
    this.capacity = maxStreams;
    this.ready = establishSession({ ...establish, maxStreams }).then(
      (session) => this.onReady(session),
      (err: unknown) => {
        this.markClosed();
        throw err;
      },
    );
    // Waiters observe the rejection; this guard keeps an unobserved one from crashing the process.
    this.ready.catch(() => undefined);
  }

  private onReady(session: ClientHttp2Session): void {
    this.session = session;
    const peerMax = session.remoteSettings.maxConcurrentStreams;
    // ztunnel: a new connection once this one would reach the pool limit or the peer's limit.
    if (typeof peerMax === 'number' && peerMax > 0) this.capacity = Math.min(this.maxStreams, peerMax);
    if (this.state === 'connecting') this.state = 'ready';
    // Node 20 may report a dead socket only as an error without closing the session.
    session.on('error', () => this.destroy());
    session.once('goaway', () => this.markDraining());
    session.once('close', () => this.markClosed());
    startKeepalive(session, this.keepalive);
    this.armIdle();
  }

  hasCapacity(): boolean {
    return this.state === 'ready' && this.active < this.capacity;
  }

  claim(): void {
    this.active++;
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    }
  }

  release(): void {
    this.active--;
    this.armIdle();
  }

  private armIdle(): void {
    if (this.active > 0 || this.state !== 'ready' || this.idleTimer) return;
    // POOL_UNUSED_RELEASE_TIMEOUT: a connection with no streams for this long is closed.
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.active === 0) this.close();
    }, this.idleReleaseMs);
    this.idleTimer.unref();
  }

  /** Stop handing out streams; open ones finish, then the session closes. */
  markDraining(): void {
    if (this.state === 'closed' || this.state === 'draining') return;
    this.state = 'draining';
    this.onGone(this, false);
  }

  close(): void {
    this.markDraining();
    this.session?.close();
  }

  destroy(): void {
    this.markDraining();
    this.session?.destroy();
  }

  private markClosed(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.onGone(this, true);
  }
}
