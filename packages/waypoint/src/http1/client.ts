// The upstream side of the HTTP/1.1 codec: one request at a time on a connection (an HBONE tunnel stream in
// the waypoint), keep-alive connections pooled per endpoint, last-in first-out so a few warm connections carry
// the load. Replaces node:http's Agent + ClientRequest + IncomingMessage on the hot path, which cost about as
// much CPU as the rest of the waypoint's request handling together.
import { Readable, type Duplex } from 'node:stream';
import { Http1ParseError } from './errors';
import type { HeaderRecord, ResponseHead } from './head';
import { ResponseParser, type Http1Limits } from './parser';
import { encodeChunk, LAST_CHUNK, serializeHead, type OutgoingHeaders } from './serialize';

/** Upstream response heads may be as large as request heads (Envoy's max_response_headers_kb default 60). */
export const UPSTREAM_LIMITS: Http1Limits = { maxHeadBytes: 60 * 1024, maxFields: 2000 };
/** node:http sends no framing for a streamed body of these methods without Content-Length; neither do we. */
const NO_CHUNKED_BY_DEFAULT = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT']);

export interface ClientRequestSpec {
  readonly method: string;
  readonly path: string;
  readonly headers: OutgoingHeaders;
  /** A Buffer is sent with a Content-Length; a stream with its own Content-Length or chunked. */
  readonly body: Buffer | Readable | undefined;
  /** Sees each streamed body chunk as it is sent (a Buffer body was counted when it was read). */
  readonly onBodyChunk?: ((chunk: Buffer) => void) | undefined;
}

export interface ClientResponse {
  readonly statusCode: number;
  readonly headers: HeaderRecord;
  readonly body: Readable;
  trailers(): HeaderRecord;
}

export interface ResponseHandler {
  onResponse(res: ClientResponse): void;
  /** The connection failed before a response head (a reset for retry purposes). */
  onError(err: Error): void;
}

class ResponseBody extends Readable {
  /** Every byte of the body was received (and pushed). */
  complete = false;

  constructor(private readonly conn: ClientConnection) {
    super();
  }

  override _read(): void {
    this.conn.tunnel.resume();
  }

  /** Destroyed before its end (the client went away): the rest of the response cannot be skipped. */
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!this.readableEnded) this.conn.abandon(this);
    cb(err);
  }
}

export class ClientConnection {
  /** Requests sent on this connection (maxRequestsPerConnection). */
  requests = 0;
  idleSinceMs = 0;
  private readonly parser: ResponseParser;
  private handler: ResponseHandler | undefined;
  private body: ResponseBody | undefined;
  private trailers: HeaderRecord = {};
  private requestDone = false;
  private responseDone = false;
  private reusable = false;
  private dead = false;
  private max = 0;

  constructor(readonly tunnel: Duplex, private readonly pool: Http1Pool) {
    this.parser = new ResponseParser(UPSTREAM_LIMITS, this);
    tunnel.on('data', (c: Buffer) => this.onData(c));
    tunnel.on('end', () => this.onTunnelEnd());
    tunnel.on('close', () => this.fail(new Error('upstream connection closed')));
    tunnel.on('error', (err: Error) => this.fail(err));
  }

  get inUse(): boolean {
    return this.handler !== undefined || this.body !== undefined;
  }

  get destroyed(): boolean {
    return this.dead;
  }

  send(req: ClientRequestSpec, handler: ResponseHandler, maxRequests: number): void {
    this.requests++;
    this.max = maxRequests;
    this.handler = handler;
    this.requestDone = false;
    this.responseDone = false;
    this.trailers = {};
    this.parser.expect(req.method);
    this.parser.resume();
    this.tunnel.resume();
    this.writeRequest(req);
  }

  /** The response body was dropped unfinished. */
  abandon(body: Readable): void {
    if (this.body === body) this.destroy();
  }

  destroy(): void {
    if (this.dead) return;
    this.dead = true;
    this.pool.forget(this);
    this.tunnel.destroy();
  }

  onHead(head: ResponseHead, _framing: unknown, keepAlive: boolean): void {
    // 1xx interim responses (100 Continue) are consumed here; 101 would switch protocols, which was never asked.
    if (head.status < 200 && head.status !== 101) return;
    const handler = this.handler;
    if (handler === undefined || head.status === 101) return this.fail(new Error('unexpected upstream response'));
    this.handler = undefined;
    this.reusable = keepAlive;
    const body = new ResponseBody(this);
    this.body = body;
    handler.onResponse({ statusCode: head.status, headers: head.headers, body, trailers: () => this.trailers });
  }

  onBody(chunk: Buffer): void {
    if (this.body !== undefined && !this.body.push(chunk)) this.tunnel.pause();
  }

  onEnd(trailers: HeaderRecord | undefined): void {
    const body = this.body;
    if (body === undefined) {
      // The end of an interim response: read on for the final one.
      queueMicrotask(() => this.parser.resume());
      return;
    }
    if (trailers !== undefined) this.trailers = trailers;
    this.body = undefined;
    this.responseDone = true;
    body.complete = true;
    body.push(null);
    this.settle();
  }

  onError(err: Http1ParseError): void {
    this.fail(err);
  }

  private onData(c: Buffer): void {
    if (!this.inUse) return this.destroy();
    this.parser.execute(c);
  }

  private onTunnelEnd(): void {
    if (this.inUse && !this.parser.finish()) this.fail(new Error('upstream connection ended mid-response'));
    this.destroy();
  }

  private fail(err: Error): void {
    const handler = this.handler;
    const body = this.body;
    this.handler = undefined;
    this.body = undefined;
    this.destroy();
    handler?.onError(err);
    body?.destroy(err);
  }

  /** Back to the pool once both directions are complete and the connection may be kept. */
  private settle(): void {
    if (!this.requestDone || !this.responseDone || this.dead) return;
    if (!this.reusable || (this.max > 0 && this.requests >= this.max)) return this.destroy();
    this.pool.release(this);
  }

  private requestWritten(): void {
    this.requestDone = true;
    this.settle();
  }

  private writeRequest(req: ClientRequestSpec): void {
    const { method, headers, body } = req;
    const hasLength = headers['content-length'] !== undefined;
    if (body === undefined || Buffer.isBuffer(body)) {
      const n = body?.length ?? 0;
      const extra = hasLength || (n === 0 && NO_CHUNKED_BY_DEFAULT.has(method)) ? undefined : `content-length: ${n}\r\n`;
      const head = serializeHead(`${method} ${req.path} HTTP/1.1\r\n`, headers, extra);
      this.tunnel.write(n === 0 ? head : Buffer.concat([head, body as Buffer]));
      return this.requestWritten();
    }
    const chunked = !hasLength && !NO_CHUNKED_BY_DEFAULT.has(method);
    this.tunnel.write(serializeHead(`${method} ${req.path} HTTP/1.1\r\n`, headers, chunked ? 'transfer-encoding: chunked\r\n' : undefined));
    this.pipeBody(body, chunked, req.onBodyChunk);
  }

  private pipeBody(body: Readable, chunked: boolean, onChunk: ((chunk: Buffer) => void) | undefined): void {
    const tunnel = this.tunnel;
    const onDrain = (): void => {
      body.resume();
    };
    const cleanup = (): void => {
      body.removeListener('data', onData);
      body.removeListener('end', onEnd);
      body.removeListener('close', onClose);
      tunnel.removeListener('drain', onDrain);
    };
    const onData = (c: Buffer): void => {
      onChunk?.(c);
      if (c.length === 0 || this.dead) return;
      const ok = tunnel.write(chunked ? encodeChunk(c) : c);
      if (!ok) body.pause();
    };
    const onEnd = (): void => {
      cleanup();
      if (this.dead) return;
      if (chunked) tunnel.write(LAST_CHUNK);
      this.requestWritten();
    };
    // The client went away before its body was complete: the upstream request cannot be finished.
    const onClose = (): void => {
      cleanup();
      this.destroy();
    };
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('close', onClose);
    tunnel.on('drain', onDrain);
    body.resume();
  }
}

/**
 * The whole body of a response that was fully received and not read yet (the common small response: head and
 * body in one read), taken without the stream machinery; undefined for any other body.
 */
export function takeWholeBody(body: Readable): Buffer | undefined {
  if (!(body instanceof ResponseBody) || !body.complete || body.readableDidRead) return undefined;
  return (body.read() as Buffer | null) ?? EMPTY;
}

const EMPTY = Buffer.alloc(0);

/** Opens a connection to the pool's endpoint (an HBONE tunnel). */
export type OpenConnection = () => Promise<Duplex>;

/** The keep-alive connections of one endpoint. */
export class Http1Pool {
  private readonly idle: ClientConnection[] = [];
  private readonly all = new Set<ClientConnection>();

  constructor(private readonly open: OpenConnection) {}

  /** An idle connection, else a new one (its open failing is a connect failure). */
  acquire(): ClientConnection | Promise<ClientConnection> {
    const c = this.idle.pop();
    if (c !== undefined) return c;
    return this.open().then((tunnel) => {
      const conn = new ClientConnection(tunnel, this);
      this.all.add(conn);
      return conn;
    });
  }

  release(c: ClientConnection): void {
    c.idleSinceMs = Date.now();
    this.idle.push(c);
  }

  forget(c: ClientConnection): void {
    this.all.delete(c);
    const i = this.idle.lastIndexOf(c);
    if (i >= 0) this.idle.splice(i, 1);
  }

  /** Closes connections idle since before `cutoffMs`. */
  sweep(cutoffMs: number): void {
    for (const c of [...this.idle]) if (c.idleSinceMs < cutoffMs) c.destroy();
  }

  get size(): number {
    return this.all.size;
  }

  get idleCount(): number {
    return this.idle.length;
  }

  destroy(): void {
    for (const c of [...this.all]) c.destroy();
  }
}
