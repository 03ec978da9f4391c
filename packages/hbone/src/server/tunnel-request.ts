import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { DetailedPeerCertificate } from 'node:tls';
import type { HboneAuthority } from '../authority';
import { parseBaggage, type BaggageInfo } from '../headers/baggage';
import { parseForwarded, type ForwardedInfo } from '../headers/forwarded';
import { parseTraceparent, type TraceParent } from '../headers/traceparent';
import { guardTunnelWrites } from '../write-guard';

export interface SocketAddress {
  address: string;
  port: number;
  family: string;
}

/** The verified client of an HBONE connection. */
export interface HbonePeer {
  /** SPIFFE URI SANs of the client certificate, in certificate order. */
  identities: string[];
  /** The first SPIFFE identity: ztunnel's source identity. */
  identity: string | undefined;
  certificate: DetailedPeerCertificate;
}

/** Per-connection facts shared by every stream of one HBONE connection. */
export interface HboneConnectionInfo {
  peer: HbonePeer;
  local: SocketAddress;
  remote: SocketAddress;
}

export interface HboneRequestHeaders {
  forwarded: ForwardedInfo;
  traceparent: TraceParent | undefined;
  baggage: BaggageInfo;
  /** Optional network of origin (double HBONE inner CONNECT). */
  forwardedNetwork: string | undefined;
  raw: IncomingHttpHeaders;
}

function headerString(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

/**
 * One CONNECT request. The handler decides: `accept()` sends 200 and returns the tunnel Duplex to
 * pipe to the upstream socket; `reject(401|503|...)` answers and ends the stream.
 */
export class HboneTunnelRequest {
  readonly authority: string;
  readonly target: HboneAuthority;
  readonly peer: HbonePeer;
  readonly local: SocketAddress;
  readonly remote: SocketAddress;
  private readonly stream: ServerHttp2Stream;
  private readonly raw: IncomingHttpHeaders;
  private parsed: HboneRequestHeaders | undefined;
  private answered = false;

  constructor(stream: ServerHttp2Stream, raw: IncomingHttpHeaders, conn: HboneConnectionInfo, authority: string, target: HboneAuthority) {
    this.stream = guardTunnelWrites(stream);
    this.authority = authority;
    this.target = target;
    this.peer = conn.peer;
    this.local = conn.local;
    this.remote = conn.remote;
    this.raw = raw;
  }

  /** Parsed on first use: an L4 hop that only relays bytes never pays for forwarded/baggage parsing. */
  get headers(): HboneRequestHeaders {
    const raw = this.raw;
    this.parsed ??= {
      forwarded: parseForwarded(headerString(raw.forwarded)),
      traceparent: parseTraceparent(headerString(raw.traceparent)),
      baggage: parseBaggage(headerString(raw.baggage)),
      forwardedNetwork: headerString(raw['x-forwarded-network']),
      raw,
    };
    return this.parsed;
  }

  get responded(): boolean {
    return this.answered;
  }

  /** True once the client reset or closed the stream; a late accept() is then pointless. */
  get cancelled(): boolean {
    return this.stream.destroyed || this.stream.closed;
  }

  /** Sends 200 (plus e.g. response `baggage`) and returns the bidirectional tunnel. */
  accept(headers?: OutgoingHttpHeaders): Duplex {
    this.respond(200, headers);
    return this.stream;
  }

  reject(status: number, headers?: OutgoingHttpHeaders): void {
    this.respond(status, headers);
  }

  /** Generic form: returns the tunnel for 200, undefined (stream ended) otherwise. */
  respond(status: number, headers?: OutgoingHttpHeaders): Duplex | undefined {
    if (this.answered) throw new Error('HBONE CONNECT already answered');
    this.answered = true;
    if (this.cancelled) return status === 200 ? this.stream : undefined;
    const endStream = status !== 200;
    this.stream.respond({ ...headers, ':status': status }, { endStream });
    return endStream ? undefined : this.stream;
  }
}
