// The downstream side of the HTTP/1.1 codec: serves the requests arriving on one connection (a sniffed HBONE
// tunnel), one at a time. Pipelined requests wait, parsed but unanswered, until the response before them
// finished (responses leave in request order). node:http's server behaviours kept: 400/431/505 for malformed
// or oversized heads, then close; 100 Continue for `Expect: 100-continue` and 417 for other expectations;
// 400 for an HTTP/1.1 request without Host; Upgrade requests served as plain requests (no upgrade is performed; the proxy strips the header); CONNECT
// refused; an unread request body drained after the response so the connection stays usable; 408 when a head
// (HEADERS_TIMEOUT) or a whole request (REQUEST_TIMEOUT) is too slow; idle keep-alive connections closed.
import { Readable, type Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import type { Http1ParseError } from './errors';
import type { Framing, HeaderRecord, RequestHead } from './head';
import { RequestParser, type Http1Limits } from './parser';
import { Http1Response, type ResponseOwner } from './response';

export interface Http1ServerOptions {
  readonly limits: Http1Limits;
  /** The request head must be complete this long after its first byte (or the connection start). */
  readonly headersTimeoutMs: number;
  /** The whole request (head and body) must arrive within this while no response started. */
  readonly requestTimeoutMs: number;
  /** Idle keep-alive connections close after this. */
  readonly keepAliveTimeoutMs: number;
}

/** `ctx` = what the connection was served with (the tunnel's context in the waypoint). */
export type Http1RequestListener<C> = (req: Http1Request, res: Http1Response, ctx: C) => void;

/** Body bytes held before anyone reads the request as a stream; past this the connection stops reading. */
const HELD_BODY_MAX_BYTES = 64 * 1024;

/**
 * The downstream request: IncomingMessage's fields the pipeline reads, and its body as a stream. The body is
 * held aside until the stream is first read, so a request whose body is taken whole (takeBody) or that has
 * none never runs the stream machinery ('end' and 'close' ticks) at all.
 */
export class Http1Request extends Readable {
  readonly method: string;
  readonly url: string;
  readonly headers: HeaderRecord;
  readonly httpVersion: string;
  trailers: HeaderRecord = {};
  /** The whole body was received. */
  complete = false;
  /** Body chunks not handed to the stream yet; undefined once it is read as a stream (or taken). */
  private held: Buffer[] | undefined = [];
  private heldBytes = 0;

  constructor(head: RequestHead, private readonly conn: ServerConnection<unknown>) {
    super();
    this.method = head.method;
    this.url = head.target;
    this.headers = head.headers;
    this.httpVersion = head.minor === 1 ? '1.1' : '1.0';
  }

  override _read(): void {
    const held = this.held;
    if (held !== undefined) {
      this.held = undefined;
      for (const c of held) this.push(c);
      if (this.complete) this.push(null);
    }
    this.conn.readMore();
  }

  /** False when the connection should stop reading until the body is consumed. */
  deliver(chunk: Buffer): boolean {
    if (this.held === undefined) return this.push(chunk);
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    return this.heldBytes < HELD_BODY_MAX_BYTES;
  }

  finish(trailers: HeaderRecord | undefined): void {
    if (trailers !== undefined) this.trailers = trailers;
    this.complete = true;
    if (this.held === undefined) this.push(null);
  }

  /**
   * The whole body when it already arrived and nothing read it yet (the common small request: head and body
   * in one read), without the stream machinery; undefined while it is still arriving. Afterwards the stream
   * reads as ended.
   */
  takeBody(): Buffer | undefined {
    const held = this.held;
    if (!this.complete || held === undefined) return undefined;
    this.held = [];
    if (held.length === 0) return EMPTY;
    return held.length === 1 ? held[0]! : Buffer.concat(held, this.heldBytes);
  }
}

const EMPTY = Buffer.alloc(0);

const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n');

function errorResponse(status: number): Buffer {
  return Buffer.from(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`, 'latin1');
}

const enum Phase { Head, Body, Closed }

class ServerConnection<C> implements ResponseOwner {
  /** Set by the server's timer sweep and compared against the timeouts. */
  phaseSinceMs = Date.now();
  phase = Phase.Head;
  private readonly parser: RequestParser;
  private req: Http1Request | undefined;
  private res: Http1Response | undefined;
  private requestEnded = true;
  private responseEnded = true;
  private hadBytes = false;
  private ended = false;
  private undispatched = false;

  constructor(readonly tunnel: Duplex, private readonly server: Http1Server<C>, private readonly ctx: C) {
    this.parser = new RequestParser(server.opts.limits, this);
    tunnel.on('data', (c: Buffer) => this.onData(c));
    tunnel.on('end', () => this.onTunnelEnd());
    tunnel.on('close', () => this.onTunnelClose());
    tunnel.on('error', () => undefined);
  }

  /** Called by the sweep: applies the headers, request and keep-alive timeouts. */
  checkTimeouts(nowMs: number): void {
    const o = this.server.opts;
    const age = nowMs - this.phaseSinceMs;
    if (this.phase === Phase.Head && this.idleBetweenRequests) {
      if (age > o.keepAliveTimeoutMs) this.destroyConnection();
    } else if (this.phase === Phase.Head && age > o.headersTimeoutMs) this.reject(408);
    else if (this.phase === Phase.Body && !this.requestEnded && age > o.requestTimeoutMs) {
      // An unread body still draining after its response gets no more time than a request would.
      if (this.responseEnded) this.destroyConnection();
      else if (this.res?.headersSent !== true) this.reject(408);
    }
  }

  onHead(head: RequestHead, framing: Framing, keepAlive: boolean): void {
    if (head.method === 'CONNECT') return this.destroyConnection();
    // RFC 9112 section 3.2 (node:http's requireHostHeader, Envoy alike): an HTTP/1.1 request without Host is 400.
    if (head.minor === 1 && head.headers.host === undefined) return this.reject(400);
    const expect = head.headers.expect;
    const expectsContinue = expect !== undefined && head.minor === 1;
    if (expectsContinue && String(expect).toLowerCase() !== '100-continue') return this.reject(417);
    const req = new Http1Request(head, this as ServerConnection<unknown>);
    const res = new Http1Response(this, head.method, head.minor, keepAlive && !this.ended);
    this.req = req;
    this.res = res;
    this.requestEnded = false;
    this.responseEnded = false;
    this.phase = Phase.Body;
    this.phaseSinceMs = Date.now();
    if (expectsContinue && framing.kind !== 'none') this.tunnel.write(CONTINUE);
    // Handed to the listener once the parser is done with the bytes at hand, so a body that arrived with its
    // head is complete by then (see Http1Request.takeBody).
    this.undispatched = true;
  }

  /** Parses a buffered pipelined request (one callback per connection, not one per request). */
  private readonly resumePipelined = (): void => {
    this.parser.resume();
    this.dispatchPending();
  };

  /** After a parser step: hands a newly parsed request to the listener. */
  private dispatchPending(): void {
    if (!this.undispatched) return;
    this.undispatched = false;
    if (this.phase !== Phase.Closed && this.req !== undefined && this.res !== undefined) this.server.listener(this.req, this.res, this.ctx);
  }

  onBody(chunk: Buffer): void {
    const req = this.req;
    // After the response finished, the rest of an unread body is drained (node:http's _dump).
    if (req === undefined || this.responseEnded) return;
    if (!req.deliver(chunk)) this.tunnel.pause();
  }

  onEnd(trailers: HeaderRecord | undefined): void {
    const req = this.req;
    this.requestEnded = true;
    if (req !== undefined && !this.responseEnded) {
      req.finish(trailers);
    }
    this.next();
  }

  onError(err: Http1ParseError): void {
    if (this.res === undefined || !this.res.headersSent) return this.reject(err.status);
    // The body turned malformed after a response started: nothing sane can follow on this connection.
    this.destroyConnection();
  }

  readMore(): void {
    if (this.phase !== Phase.Closed) this.tunnel.resume();
  }

  write(data: Buffer, last: boolean, res: Http1Response): boolean {
    if (this.phase === Phase.Closed || res !== this.res) return false;
    if (!last) {
      const ok = this.tunnel.write(data);
      if (!ok) this.tunnel.once('drain', () => res.emit('drain'));
      return ok;
    }
    const ok = this.tunnel.write(data);
    this.responseEnded = true;
    if (!res.keepAlive) this.ended = true;
    res.finished();
    // The rest of an unread request body is drained before the next request (node:http's _dump); reading may
    // have been paused while the body was held.
    if (!this.requestEnded) {
      this.req?.destroy();
      this.tunnel.resume();
    }
    this.next();
    return ok;
  }

  destroyConnection(): void {
    if (this.phase === Phase.Closed) return;
    this.phase = Phase.Closed;
    this.server.forget(this);
    this.tunnel.destroy();
    this.req?.destroy();
    this.res?.close();
  }

  private get idleBetweenRequests(): boolean {
    return this.req === undefined && !this.hadBytes && this.parser.buffered === 0;
  }

  private onData(c: Buffer): void {
    if (this.phase === Phase.Head && this.idleBetweenRequests) {
      this.hadBytes = true;
      this.phaseSinceMs = Date.now();
    }
    this.parser.execute(c);
    this.dispatchPending();
    // A pipelined request waits (parsed no further) for the response before it: stop reading until then.
    if (!this.responseEnded && this.requestEnded && this.parser.buffered > 0) this.tunnel.pause();
  }

  /** Both halves of the exchange are over: the next (maybe already buffered) request, or close. */
  private next(): void {
    if (!this.requestEnded || !this.responseEnded || this.phase === Phase.Closed) return;
    this.req = undefined;
    this.res = undefined;
    if (this.ended) {
      this.phase = Phase.Closed;
      this.server.forget(this);
      const tunnel = this.tunnel;
      tunnel.end(() => tunnel.destroy());
      return;
    }
    this.phase = Phase.Head;
    this.phaseSinceMs = Date.now();
    this.hadBytes = this.parser.buffered > 0;
    this.tunnel.resume();
    // A pipelined request is parsed (and handled) outside the stack of the response that just ended.
    if (this.parser.buffered > 0) queueMicrotask(this.resumePipelined);
    else this.parser.resume();
  }

  private reject(status: number): void {
    if (this.phase === Phase.Closed) return;
    const res = this.res;
    this.phase = Phase.Closed;
    this.server.forget(this);
    // Written, then the connection is torn down (node:http writes the error response and destroys the socket).
    const tunnel = this.tunnel;
    tunnel.end(errorResponse(status), () => tunnel.destroy());
    this.req?.destroy();
    res?.close();
  }

  private onTunnelEnd(): void {
    this.ended = true;
    // Half-closed by the client: answer what is in flight, then close (node:http's allowHalfOpen behaviour).
    if (this.req === undefined) this.destroyConnection();
    else if (!this.requestEnded) this.destroyConnection();
  }

  private onTunnelClose(): void {
    this.destroyConnection();
  }
}

/** Serves HTTP/1.1 connections handed to it; one timer sweep for all of their timeouts. */
export class Http1Server<C> {
  private readonly conns = new Set<ServerConnection<C>>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(readonly opts: Http1ServerOptions, readonly listener: Http1RequestListener<C>, private readonly sweepIntervalMs = 1_000) {}

  serve(tunnel: Duplex, ctx: C): void {
    const c = new ServerConnection(tunnel, this, ctx);
    this.conns.add(c);
    this.sweeper ??= setInterval(() => this.sweep(), this.sweepIntervalMs).unref();
    tunnel.resume();
  }

  forget(c: ServerConnection<C>): void {
    this.conns.delete(c);
  }

  get connections(): number {
    return this.conns.size;
  }

  close(): void {
    for (const c of [...this.conns]) c.destroyConnection();
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  private sweep(): void {
    const now = Date.now();
    for (const c of [...this.conns]) c.checkTimeouts(now);
  }
}
