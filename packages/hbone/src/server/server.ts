import { once } from 'node:events';
import http2, { type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import net, { type AddressInfo, type ListenOptions, type Socket } from 'node:net';
import type { SecureContext, TLSSocket } from 'node:tls';
import { tryParseAuthority } from '../authority';
import {
  H2_CONNECTION_WINDOW_BYTES,
  H2_KEEPALIVE_INTERVAL_MS,
  H2_KEEPALIVE_TIMEOUT_MS,
  H2_MAX_FRAME_BYTES,
  H2_MAX_SESSION_MEMORY_MB,
  H2_SERVER_MAX_CONCURRENT_STREAMS,
  H2_SERVER_MAX_HEADER_LIST_BYTES,
  H2_STREAM_WINDOW_BYTES,
  TLS_HANDSHAKE_TIMEOUT_MS,
} from '../constants';
import { spiffeIdentities } from '../tls/identity';
import { startKeepalive } from '../keepalive';
import { acceptTls } from './tls-accept';
import { HboneTunnelRequest, type HboneConnectionInfo, type HbonePeer, type SocketAddress } from './tunnel-request';

export interface HboneServerOptions {
  /** The context (cert of the destination workload + roots) used for every connection. */
  secureContext?: SecureContext;
  /**
   * Picks the context by the address the client connected to: HBONE sends no SNI, so the
   * destination pod's identity follows from the local address (per-pod listener).
   */
  secureContextFor?: (local: SocketAddress) => SecureContext | Promise<SecureContext>;
  /** Extra check of the verified client (e.g. trustDomainVerifier); return an Error to drop it. */
  verifyClient?: (peer: HbonePeer) => Error | undefined;
  /** Called per valid CONNECT; must accept() or reject(). A throw/rejection before answering yields 503. */
  onConnect: (req: HboneTunnelRequest) => void | Promise<void>;
  /** Diagnostics hook (failed handshakes, stream/session errors). Never throws into the server. */
  onError?: (err: Error, context: { phase: 'tls' | 'session' | 'stream' | 'handler'; remote?: SocketAddress }) => void;
  handshakeTimeoutMs?: number;
  keepaliveIntervalMs?: number;
  keepaliveTimeoutMs?: number;
  /** ztunnel's TLS12_ENABLED. */
  allowTls12?: boolean;
}

export interface HboneServer {
  /** The underlying listener; `listen({ fd })` accepts on a socket created in another netns. */
  readonly netServer: net.Server;
  /** `{ port, host }`, or `{ fd }` for an inherited / passed listening socket. */
  listen(options: ListenOptions | { fd: number }): Promise<AddressInfo>;
  address(): AddressInfo | undefined;
  /** Serves an already-accepted TCP connection. */
  handleSocket(socket: Socket): void;
  /** Stops accepting, sends GOAWAY, waits for streams up to deadlineMs, then destroys the rest. */
  close(deadlineMs?: number): Promise<void>;
  /** Immediately tears down every connection. */
  destroy(): void;
  /** Number of live HTTP/2 sessions (for tests and metrics). */
  readonly sessionCount: number;
}

const kConnInfo = Symbol('hbone.connInfo');
type InfoSocket = TLSSocket & { [kConnInfo]?: HboneConnectionInfo };

function addrOf(address: string | undefined, port: number | undefined, family: string | undefined): SocketAddress {
  return { address: address ?? '', port: port ?? 0, family: family ?? '' };
}

function respondAndEnd(stream: ServerHttp2Stream, status: number): void {
  if (!stream.destroyed && !stream.closed && !stream.headersSent) stream.respond({ ':status': status }, { endStream: true });
}

export function createHboneServer(opts: HboneServerOptions): HboneServer {
  if (!opts.secureContext && !opts.secureContextFor) {
    throw new TypeError('createHboneServer needs secureContext or secureContextFor');
  }
  const report = opts.onError ?? ((): void => undefined);
  const sessions = new Set<ServerHttp2Session>();
  const handshaking = new Set<Socket>();
  const established = new Set<TLSSocket>();

  const h2 = http2.createServer({
    maxSessionMemory: H2_MAX_SESSION_MEMORY_MB,
    settings: {
      maxConcurrentStreams: H2_SERVER_MAX_CONCURRENT_STREAMS,
      initialWindowSize: H2_STREAM_WINDOW_BYTES,
      maxFrameSize: H2_MAX_FRAME_BYTES,
      maxHeaderListSize: H2_SERVER_MAX_HEADER_LIST_BYTES,
    },
  });
  h2.on('session', (session: ServerHttp2Session) => onSession(session));
  h2.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => onStream(stream, headers));

  function onSession(session: ServerHttp2Session): void {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    session.on('error', (err) => report(err, { phase: 'session' }));
    // The native handle exists only once the session is set up.
    session.once('connect', () => {
      session.setLocalWindowSize(H2_CONNECTION_WINDOW_BYTES);
      startKeepalive(session, {
        intervalMs: opts.keepaliveIntervalMs ?? H2_KEEPALIVE_INTERVAL_MS,
        timeoutMs: opts.keepaliveTimeoutMs ?? H2_KEEPALIVE_TIMEOUT_MS,
      });
    });
  }

  function onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    stream.on('error', (err) => report(err, { phase: 'stream' }));
    const info = (stream.session?.socket as InfoSocket | undefined)?.[kConnInfo];
    const authority = headers[':authority'];
    const target = typeof authority === 'string' ? tryParseAuthority(authority) : undefined;
    // ztunnel answers 400 to anything but CONNECT and to authorities it cannot parse.
    if (!info || headers[':method'] !== 'CONNECT' || !target || typeof authority !== 'string') {
      respondAndEnd(stream, 400);
      return;
    }
    const req = new HboneTunnelRequest(stream, headers, info, authority, target);
    void (async () => {
      try {
        await opts.onConnect(req);
      } catch (err) {
        report(err instanceof Error ? err : new Error(String(err)), { phase: 'handler', remote: info.remote });
        if (!req.responded) respondAndEnd(stream, 503);
        else if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      }
    })();
  }

  async function secure(raw: Socket): Promise<void> {
    const local = addrOf(raw.localAddress, raw.localPort, raw.localFamily);
    const remote = addrOf(raw.remoteAddress, raw.remotePort, raw.remoteFamily);
    try {
      const ctx = opts.secureContext ?? (await opts.secureContextFor!(local));
      const sock: InfoSocket = await acceptTls(raw, {
        secureContext: ctx,
        handshakeTimeoutMs: opts.handshakeTimeoutMs ?? TLS_HANDSHAKE_TIMEOUT_MS,
        allowTls12: opts.allowTls12 ?? false,
      });
      const certificate = sock.getPeerCertificate(true);
      const identities = spiffeIdentities(certificate);
      const peer: HbonePeer = { identities, identity: identities[0], certificate };
      const rejected = opts.verifyClient?.(peer);
      if (rejected) {
        sock.destroy();
        throw rejected;
      }
      sock[kConnInfo] = { peer, local, remote };
      established.add(sock);
      sock.once('close', () => established.delete(sock));
      h2.emit('connection', sock);
    } catch (err) {
      raw.destroy();
      report(err instanceof Error ? err : new Error(String(err)), { phase: 'tls', remote });
    } finally {
      handshaking.delete(raw);
    }
  }

  function handleSocket(raw: Socket): void {
    // node:http2 never sets TCP_NODELAY and cannot once wrapped; set it on the raw socket.
    raw.setNoDelay(true);
    handshaking.add(raw);
    void secure(raw);
  }

  const netServer = net.createServer({ noDelay: true }, handleSocket);

  return {
    netServer,
    async listen(options) {
      const listening = once(netServer, 'listening');
      if ('fd' in options) netServer.listen({ fd: options.fd });
      else netServer.listen(options);
      await listening;
      return netServer.address() as AddressInfo;
    },
    address: () => (netServer.address() as AddressInfo | null) ?? undefined,
    handleSocket,
    get sessionCount() {
      return sessions.size;
    },
    async close(deadlineMs = 5_000) {
      if (netServer.listening) netServer.close();
      for (const raw of handshaking) raw.destroy();
      const closing = [...sessions].map((s) => new Promise<void>((resolve) => {
        s.once('close', resolve);
        s.close();
      }));
      const deadline = new Promise<void>((resolve) => setTimeout(resolve, deadlineMs).unref());
      await Promise.race([Promise.all(closing), deadline]);
      for (const s of sessions) s.destroy();
    },
    destroy() {
      if (netServer.listening) netServer.close();
      for (const raw of handshaking) raw.destroy();
      // Like a crash: drop the TCP connections. Destroying the sessions instead would reset every
      // stream with NO_ERROR, which clients read as a clean end of their tunnels.
      for (const sock of established) sock.destroy();
      for (const s of sessions) s.destroy();
    },
  };
}
