// HTTP/2 (h2c) upstream sessions for ports whose protocol is HTTP2 or GRPC, as Envoy's waypoint clusters use
// http2_protocol_options for them: one HTTP/2 connection per endpoint carried inside one HBONE tunnel, every
// request a stream on it (gRPC streaming, trailers and grpc-status pass through unchanged).
import http2, { type ClientHttp2Session } from 'node:http2';
import type { Duplex } from 'node:stream';
import { originatesTls, type UpstreamTransport } from './direct';
import { hostPort } from './ip';
import type { Endpoint } from './mesh-state';

/** Stream and connection receive windows: the 64 KiB defaults stall bulk gRPC streams on round trips. */
export const UPSTREAM_H2_STREAM_WINDOW_BYTES = 4 * 1024 * 1024;
export const UPSTREAM_H2_CONNECTION_WINDOW_BYTES = 16 * 1024 * 1024;
/** Idle upstream HTTP/2 sessions are closed after this (as idle HTTP/1.1 connections are). */
export const UPSTREAM_H2_IDLE_MS = 60_000;

interface SessionEntry {
  session: Promise<ClientHttp2Session>;
  /** Streams opened on it (DestinationRule maxRequestsPerConnection accounting). */
  streams: number;
}

async function isDead(p: Promise<ClientHttp2Session>): Promise<boolean> {
  return p.then((s) => s.closed || s.destroyed, () => true);
}

export class H2Sessions {
  private readonly sessions = new Map<string, SessionEntry>();

  constructor(
    private readonly openTunnel: (ep: Endpoint, transport?: UpstreamTransport) => Promise<Duplex>,
    private readonly keyOf: (ep: Endpoint, transport?: UpstreamTransport) => string = (ep) => `${hostPort(ep.ip, ep.port)}|${ep.workload.identity}`,
  ) {}

  /**
   * The live session to `ep`, opened on first use. `maxStreams` > 0 retires a session (graceful close: its
   * open streams finish) once that many streams were taken from it, for maxRequestsPerConnection. `transport`
   * (the cluster) decides plaintext or TLS for a non-HBONE endpoint.
   */
  async acquire(ep: Endpoint, maxStreams = 0, transport?: UpstreamTransport): Promise<ClientHttp2Session> {
    const key = this.keyOf(ep, transport);
    let entry = this.sessions.get(key);
    if (entry !== undefined && (await isDead(entry.session))) {
      this.forget(key, entry);
      entry = undefined;
    }
    if (entry === undefined) {
      const created: SessionEntry = { session: this.open(key, ep, transport), streams: 0 };
      this.sessions.set(key, created);
      created.session.catch(() => this.forget(key, created));
      entry = created;
    }
    const current = entry;
    const session = await current.session;
    current.streams++;
    if (maxStreams > 0 && current.streams >= maxStreams) {
      this.forget(key, current);
      // Closing after the caller's request was issued: the stream is created synchronously after acquire.
      setImmediate(() => session.close());
    }
    return session;
  }

  close(): void {
    for (const e of this.sessions.values()) void e.session.then((s) => s.destroy(), () => undefined);
    this.sessions.clear();
  }

  private forget(key: string, entry: SessionEntry): void {
    if (this.sessions.get(key) === entry) this.sessions.delete(key);
  }

  private async open(key: string, ep: Endpoint, transport: UpstreamTransport | undefined): Promise<ClientHttp2Session> {
    const tunnel = await this.openTunnel(ep, transport);
    // :scheme follows the upstream transport: https once the waypoint originates TLS.
    const scheme = ep.workload.tunnel === 'none' && originatesTls(transport) ? 'https' : 'http';
    const session = http2.connect(`${scheme}://${hostPort(ep.ip, ep.port)}`, {
      createConnection: () => tunnel,
      settings: { initialWindowSize: UPSTREAM_H2_STREAM_WINDOW_BYTES, enablePush: false },
    });
    const gone = (): void => {
      const e = this.sessions.get(key);
      if (e !== undefined) void e.session.then((s) => (s === session ? this.sessions.delete(key) : undefined), () => undefined);
    };
    session.on('error', gone);
    session.once('goaway', gone);
    session.once('close', gone);
    session.setTimeout(UPSTREAM_H2_IDLE_MS, () => session.close());
    await new Promise<void>((resolve, reject) => {
      session.once('connect', () => resolve());
      session.once('error', reject);
      session.once('close', () => reject(new Error(`upstream HTTP/2 session to ${hostPort(ep.ip, ep.port)} closed before its settings arrived`)));
    });
    session.setLocalWindowSize(UPSTREAM_H2_CONNECTION_WINDOW_BYTES);
    return session;
  }
}
