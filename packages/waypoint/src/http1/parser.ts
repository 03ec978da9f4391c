// Incremental HTTP/1.1 message parser: heads, Content-Length and chunked bodies (with trailers), close-delimited
// response bodies. Bytes may arrive split anywhere; body chunks are handed out as views of the input (no
// copies). It stops after each complete message, so a server answers pipelined requests one at a time: the
// rest stays buffered until `resume()`. Errors are reported once, never thrown to the caller.
import { Http1ParseError } from './errors';
import {
  isFieldValue, keepAlive, parseFields, parseRequestHead, parseResponseHead, requestFraming, responseFraming,
  type Framing, type HeaderRecord, type RequestHead, type ResponseHead,
} from './head';

export interface Http1Limits {
  /** Request/status line plus header fields, in bytes (431 beyond). */
  readonly maxHeadBytes: number;
  readonly maxFields: number;
}

export interface ParserSink<H> {
  /** A complete head; its body follows as onBody calls and one onEnd. */
  onHead(head: H, framing: Framing, keepAlive: boolean): void;
  onBody(chunk: Buffer): void;
  /** The message ended (trailers of a chunked body when it had any). */
  onEnd(trailers: HeaderRecord | undefined): void;
  onError(err: Http1ParseError): void;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
/** A chunk-size line: up to 16 hex digits plus extensions. */
const MAX_CHUNK_LINE_BYTES = 4096;

const enum State { Head, Length, ChunkSize, ChunkData, ChunkDataEnd, Trailers, Close, Done, Failed }

abstract class MessageParser<H> {
  private state = State.Head;
  private buf: Buffer | undefined;
  /** Owns the bytes of `buf` once a chunk had to be appended to it: appends go in place (amortised growth). */
  private store: Buffer | undefined;
  private storeEnd = 0;
  /** How much of `buf` a head or trailer section search already covered (a trickled head is scanned once). */
  private scanned = 0;
  private remaining = 0;
  private paused = false;

  constructor(protected readonly limits: Http1Limits, protected readonly sink: ParserSink<H>) {}

  /** Feeds bytes; parsing stops after a complete message until `resume()`. */
  execute(chunk: Buffer): void {
    const b = this.buf;
    if (b === undefined || b.length === 0) {
      this.buf = chunk;
      this.store = undefined;
    } else this.buf = this.append(b, chunk);
    this.run();
  }

  /**
   * `b` + `chunk`, copied into a store grown by doubling, so bytes trickling in one at a time cost linear (not
   * quadratic) copying. Only bytes past `storeEnd` are written: views handed out earlier stay intact.
   */
  private append(b: Buffer, chunk: Buffer): Buffer {
    const s = this.store;
    if (s !== undefined && b.buffer === s.buffer && b.byteOffset + b.length === this.storeEnd && this.storeEnd + chunk.length <= s.length) {
      chunk.copy(s, this.storeEnd);
      this.storeEnd += chunk.length;
      return s.subarray(b.byteOffset, this.storeEnd);
    }
    const n = b.length + chunk.length;
    const grown = Buffer.allocUnsafeSlow(Math.max(2 * n, 4096));
    b.copy(grown, 0);
    chunk.copy(grown, b.length);
    this.store = grown;
    this.storeEnd = n;
    return grown.subarray(0, n);
  }

  /** Parses the next message from what is buffered (after the previous one was handled). */
  resume(): void {
    if (this.state === State.Done) this.state = State.Head;
    this.paused = false;
    this.run();
  }

  /** The connection ended: completes a close-delimited body, else an unfinished message is an error. */
  finish(): boolean {
    if (this.state === State.Close) {
      this.state = State.Done;
      this.sink.onEnd(undefined);
      return true;
    }
    return this.state === State.Head && (this.buf === undefined || this.buf.length === 0);
  }

  /** Bytes received and not parsed yet (the next pipelined message). */
  get buffered(): number {
    return this.buf?.length ?? 0;
  }

  get idle(): boolean {
    return this.state === State.Head || this.state === State.Done;
  }

  protected abstract head(text: string): { head: H; framing: Framing; keepAlive: boolean };

  private run(): void {
    try {
      while (!this.paused && this.buf !== undefined && (this.buf.length > 0 || this.state === State.Done)) {
        if (!this.step(this.buf)) break;
      }
    } catch (err) {
      if (!(err instanceof Http1ParseError)) throw err;
      this.state = State.Failed;
      this.buf = undefined;
      this.sink.onError(err);
    }
  }

  /** One state transition; false when more bytes are needed. */
  private step(b: Buffer): boolean {
    switch (this.state) {
      case State.Head: return this.readHead(b);
      case State.Length: return this.readLength(b);
      case State.ChunkSize: return this.readChunkSize(b);
      case State.ChunkData: return this.readChunkData(b);
      case State.ChunkDataEnd: return this.readChunkDataEnd(b);
      case State.Trailers: return this.readTrailers(b);
      case State.Close:
        this.buf = undefined;
        this.sink.onBody(b);
        return false;
      case State.Done:
        this.paused = true;
        return false;
      default:
        this.buf = undefined;
        return false;
    }
  }

  private readHead(b: Buffer): boolean {
    let start = 0;
    // RFC 9112 section 2.2: empty lines before a request line are ignored (left after some bodies).
    while (start + 1 < b.length && b[start] === 0x0d && b[start + 1] === 0x0a) start += 2;
    const end = b.indexOf(CRLFCRLF, Math.max(start, this.scanned - 3));
    if (end < 0 || end - start > this.limits.maxHeadBytes) {
      if (b.length - start > this.limits.maxHeadBytes) throw new Http1ParseError(431, 'message head too large');
      if (start > 0) this.buf = b.subarray(start);
      this.scanned = b.length - start;
      return false;
    }
    this.scanned = 0;
    const { head, framing, keepAlive: ka } = this.head(b.toString('latin1', start, end));
    this.buf = b.subarray(end + 4);
    this.sink.onHead(head, framing, ka);
    this.startBody(framing);
    return true;
  }

  private startBody(f: Framing): void {
    if (f.kind === 'none') return this.end(undefined);
    if (f.kind === 'length') {
      this.state = State.Length;
      this.remaining = f.bytes;
    } else this.state = f.kind === 'chunked' ? State.ChunkSize : State.Close;
  }

  private end(trailers: HeaderRecord | undefined): void {
    this.state = State.Done;
    this.sink.onEnd(trailers);
  }

  private readLength(b: Buffer): boolean {
    const n = Math.min(b.length, this.remaining);
    this.remaining -= n;
    this.buf = b.subarray(n);
    this.sink.onBody(n === b.length ? b : b.subarray(0, n));
    if (this.remaining === 0) this.end(undefined);
    return true;
  }

  private readChunkSize(b: Buffer): boolean {
    const eol = b.indexOf(0x0a);
    if (eol < 0) {
      if (b.length > MAX_CHUNK_LINE_BYTES) throw new Http1ParseError(400, 'chunk size line too long');
      return false;
    }
    if (eol === 0 || b[eol - 1] !== 0x0d) throw new Http1ParseError(400, 'invalid chunk size line');
    const line = b.toString('latin1', 0, eol - 1);
    const semi = line.indexOf(';');
    const hex = semi < 0 ? line : line.slice(0, semi);
    if (!/^[0-9a-fA-F]{1,15}$/.test(hex)) throw new Http1ParseError(400, 'invalid chunk size');
    if (semi >= 0 && !isFieldValue(line.slice(semi))) throw new Http1ParseError(400, 'invalid chunk extension');
    this.buf = b.subarray(eol + 1);
    this.remaining = parseInt(hex, 16);
    this.state = this.remaining === 0 ? State.Trailers : State.ChunkData;
    return true;
  }

  private readChunkData(b: Buffer): boolean {
    const n = Math.min(b.length, this.remaining);
    this.remaining -= n;
    this.buf = b.subarray(n);
    this.sink.onBody(n === b.length ? b : b.subarray(0, n));
    if (this.remaining === 0) this.state = State.ChunkDataEnd;
    return true;
  }

  private readChunkDataEnd(b: Buffer): boolean {
    if (b.length < 2) return b[0] === 0x0d ? false : this.fail('chunk data not followed by CRLF');
    if (b[0] !== 0x0d || b[1] !== 0x0a) return this.fail('chunk data not followed by CRLF');
    this.buf = b.subarray(2);
    this.state = State.ChunkSize;
    return true;
  }

  private readTrailers(b: Buffer): boolean {
    if (b.length >= 2 && b[0] === 0x0d && b[1] === 0x0a) {
      this.buf = b.subarray(2);
      this.end(undefined);
      return true;
    }
    const end = b.indexOf(CRLFCRLF, Math.max(0, this.scanned - 3));
    if (end < 0 || end > this.limits.maxHeadBytes) {
      if (b.length > this.limits.maxHeadBytes) throw new Http1ParseError(431, 'trailers too large');
      this.scanned = b.length;
      return b.length < 2 || b[0] !== 0x0d ? false : this.fail('invalid trailer section');
    }
    this.scanned = 0;
    const trailers = parseFields(b.toString('latin1', 0, end), 0, this.limits.maxFields);
    this.buf = b.subarray(end + 4);
    this.end(trailers);
    return true;
  }

  private fail(message: string): never {
    throw new Http1ParseError(400, message);
  }
}

export class RequestParser extends MessageParser<RequestHead> {
  protected head(text: string): { head: RequestHead; framing: Framing; keepAlive: boolean } {
    const head = parseRequestHead(text, this.limits.maxFields);
    return { head, framing: requestFraming(head), keepAlive: keepAlive(head.minor, head.headers) };
  }
}

/** Parses the responses to requests sent in order; `expect(method)` before each (HEAD has no body). */
export class ResponseParser extends MessageParser<ResponseHead> {
  private method = 'GET';

  expect(method: string): void {
    this.method = method;
  }

  protected head(text: string): { head: ResponseHead; framing: Framing; keepAlive: boolean } {
    const head = parseResponseHead(text, this.limits.maxFields);
    return { head, framing: responseFraming(head, this.method), keepAlive: keepAlive(head.minor, head.headers) };
  }
}
