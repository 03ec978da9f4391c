// The downstream response of the HTTP/1.1 codec: the subset of node:http's ServerResponse the waypoint's
// pipeline uses (writeHead, write, end, addTrailers, destroy, headersSent, writableFinished, 'finish', 'close',
// 'drain'), enough to be a `pipe()` destination. The head is held until the first body write so head and body
// leave in one tunnel write.
import { EventEmitter } from 'node:events';
import { STATUS_CODES } from 'node:http';
import { encodeChunk, InvalidHeaderError, LAST_CHUNK, lastChunkWithTrailers, serializeHead, type OutgoingHeaders } from './serialize';

/** What a response needs from its connection. */
export interface ResponseOwner {
  write(data: Buffer, last: boolean, res: Http1Response): boolean;
  destroyConnection(): void;
}

type BodyMode = 'none' | 'raw' | 'chunked' | 'close';

let dateSecond = 0;
let dateValue = '';

/** node:http sends Date on every response (sendDate); formatted once a second. */
function httpDate(): string {
  const now = Date.now();
  const s = Math.floor(now / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateValue = new Date(now).toUTCString();
  }
  return dateValue;
}

export class Http1Response extends EventEmitter {
  statusCode = 200;
  headersSent = false;
  writableEnded = false;
  writableFinished = false;
  destroyed = false;
  /** False once this response decided the connection must close after it. */
  keepAlive: boolean;
  private headers: OutgoingHeaders = {};
  private head: Buffer | undefined;
  private mode: BodyMode = 'raw';
  private trailers: OutgoingHeaders | undefined;

  constructor(private readonly owner: ResponseOwner, private readonly method: string, private readonly minor: number, keepAlive: boolean) {
    super();
    this.keepAlive = keepAlive;
  }

  writeHead(status: number, headers?: OutgoingHeaders): this {
    if (this.headersSent) throw new Error('response headers already sent');
    this.statusCode = status;
    this.headersSent = true;
    if (headers !== undefined) this.headers = headers;
    return this;
  }

  addTrailers(trailers: OutgoingHeaders): void {
    this.trailers = trailers;
  }

  write(chunk: Buffer | string): boolean {
    if (this.writableEnded || this.destroyed) return false;
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const head = this.takeHead(undefined);
    if (head === null) return false;
    const body = this.frame(b);
    if (head === undefined) return body === undefined ? true : this.owner.write(body, false, this);
    return this.owner.write(body === undefined ? head : Buffer.concat([head, body]), false, this);
  }

  end(chunk?: Buffer | string): this {
    if (this.writableEnded || this.destroyed) return this;
    this.writableEnded = true;
    const b = chunk === undefined ? undefined : typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const head = this.takeHead(b?.length ?? 0);
    if (head === null) return this;
    const parts: Buffer[] = [];
    if (head !== undefined) parts.push(head);
    const body = b === undefined || b.length === 0 ? undefined : this.frame(b);
    if (body !== undefined) parts.push(body);
    if (this.mode === 'chunked') parts.push(this.trailers === undefined ? LAST_CHUNK : lastChunkWithTrailers(this.trailers));
    this.owner.write(parts.length === 1 ? parts[0]! : Buffer.concat(parts), true, this);
    return this;
  }

  /** The last bytes were handed to the connection: 'finish', then 'close', as node:http emits them. */
  finished(): void {
    if (this.writableFinished || this.destroyed) return;
    this.writableFinished = true;
    this.emit('finish');
    this.close();
  }

  /** The connection went away first (node:http: 'close' without 'finish'). */
  close(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.emit('close');
  }

  destroy(): void {
    if (this.destroyed) return;
    this.owner.destroyConnection();
    this.close();
  }

  /**
   * Serializes the held head once; `endLength` = the whole body's length when end() comes before any write.
   * A header that cannot be written (CR, LF or NUL from a route's header ops) destroys the response (null)
   * instead of throwing out of a write, which may run inside a pipe's 'data' event.
   */
  private takeHead(endLength: number | undefined): Buffer | undefined | null {
    if (this.head !== undefined) return undefined;
    this.headersSent = true;
    const h = this.headers;
    let extra = h.date === undefined ? `date: ${httpDate()}\r\n` : '';
    const status = this.statusCode;
    if (this.method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200)) this.mode = 'none';
    else if (h['content-length'] !== undefined) this.mode = 'raw';
    else if (endLength !== undefined) {
      this.mode = 'raw';
      extra += `content-length: ${endLength}\r\n`;
    } else if (this.minor === 1) {
      this.mode = 'chunked';
      extra += 'transfer-encoding: chunked\r\n';
    } else {
      this.mode = 'close';
      this.keepAlive = false;
    }
    if (!this.keepAlive) extra += 'connection: close\r\n';
    else if (this.minor === 0) extra += 'connection: keep-alive\r\n';
    try {
      this.head = serializeHead(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`, h, extra);
    } catch (err) {
      if (!(err instanceof InvalidHeaderError)) throw err;
      this.destroy();
      return null;
    }
    return this.head;
  }

  private frame(b: Buffer): Buffer | undefined {
    if (this.mode === 'none' || b.length === 0) return undefined;
    return this.mode === 'chunked' ? encodeChunk(b) : b;
  }
}
