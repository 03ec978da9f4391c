// HTTP/1.1 message heads (RFC 9112): request and status lines, header fields, and the body framing they
// imply. Strict where leniency enables request smuggling (llhttp's strict mode, Envoy's defaults): CRLF line
// ends only, no obs-fold, no whitespace before the colon, Content-Length and Transfer-Encoding together
// refused, conflicting Content-Length values refused, chunked must be the final request coding.
import { Http1ParseError } from './errors';

export type HeaderRecord = Record<string, string | string[]>;

export interface RequestHead {
  readonly method: string;
  readonly target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  readonly minor: number;
  readonly headers: HeaderRecord;
}

export interface ResponseHead {
  readonly status: number;
  readonly reason: string;
  readonly minor: number;
  readonly headers: HeaderRecord;
}

/** How the message body is delimited: none, a byte count, chunked, or (responses only) the connection end. */
export type Framing = { kind: 'none' } | { kind: 'length'; bytes: number } | { kind: 'chunked' } | { kind: 'close' };

const NONE: Framing = { kind: 'none' };
const CHUNKED: Framing = { kind: 'chunked' };
const CLOSE: Framing = { kind: 'close' };

/**
 * Duplicates of these keep the first value, as node:http's IncomingMessage does (content-length duplicates are
 * compared first: different values are a smuggling vector and refused).
 */
const FIRST_WINS = new Set([
  'age', 'authorization', 'content-length', 'content-type', 'etag', 'expires', 'from', 'host', 'if-modified-since',
  'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'proxy-authorization', 'referer', 'retry-after',
  'server', 'user-agent',
]);

/** RFC 9110 tchar lookup. */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TCHAR[c] !== 1) return false;
  }
  return true;
}

/** field-value: visible ASCII, SP, HTAB and obs-text; no other controls (CR, LF, NUL). */
export function isFieldValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return false;
  }
  return true;
}

/** request-target: visible ASCII (and obs-text, which node:http let through), nothing else. */
function isTarget(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f) return false;
  }
  return true;
}

function trimOws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 0x20 || s.charCodeAt(a) === 0x09)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 0x20 || s.charCodeAt(b - 1) === 0x09)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

function addField(headers: HeaderRecord, name: string, value: string): void {
  const cur = headers[name];
  if (cur === undefined) {
    headers[name] = name === 'set-cookie' ? [value] : value;
    return;
  }
  if (Array.isArray(cur)) cur.push(value);
  else if (name === 'content-length') {
    if (cur !== value) throw new Http1ParseError(400, 'conflicting Content-Length values');
  } else if (FIRST_WINS.has(name)) return;
  else headers[name] = `${cur}${name === 'cookie' ? '; ' : ', '}${value}`;
}

/**
 * Parses header field lines of `text` from `from` (each ending CRLF, the block ending with an empty line
 * already removed). Names are lower-cased.
 */
export function parseFields(text: string, from: number, maxFields: number, into: HeaderRecord = {}): HeaderRecord {
  let pos = from;
  let n = 0;
  while (pos < text.length) {
    let eol = text.indexOf('\r\n', pos);
    if (eol < 0) eol = text.length;
    const line = text.slice(pos, eol);
    pos = eol + 2;
    if (++n > maxFields) throw new Http1ParseError(431, 'too many header fields');
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Http1ParseError(400, 'invalid header field line');
    const name = line.slice(0, colon);
    if (!isToken(name)) throw new Http1ParseError(400, 'invalid header field name');
    const value = trimOws(line.slice(colon + 1));
    if (!isFieldValue(value)) throw new Http1ParseError(400, 'invalid header field value');
    addField(into, name.toLowerCase(), value);
  }
  return into;
}

function versionMinor(v: string): number {
  if (v === 'HTTP/1.1') return 1;
  if (v === 'HTTP/1.0') return 0;
  throw new Http1ParseError(v.startsWith('HTTP/') ? 505 : 400, 'unsupported HTTP version');
}

/** `text` = the head without its final CRLFCRLF. */
export function parseRequestHead(text: string, maxFields: number): RequestHead {
  const eol = text.indexOf('\r\n');
  const line = eol < 0 ? text : text.slice(0, eol);
  const sp1 = line.indexOf(' ');
  const sp2 = sp1 < 0 ? -1 : line.indexOf(' ', sp1 + 1);
  if (sp1 <= 0 || sp2 < 0 || line.indexOf(' ', sp2 + 1) >= 0) throw new Http1ParseError(400, 'invalid request line');
  const method = line.slice(0, sp1);
  const target = line.slice(sp1 + 1, sp2);
  if (!isToken(method) || !isTarget(target)) throw new Http1ParseError(400, 'invalid request line');
  const minor = versionMinor(line.slice(sp2 + 1));
  const headers = eol < 0 ? {} : parseFields(text, eol + 2, maxFields);
  return { method, target, minor, headers };
}

export function parseResponseHead(text: string, maxFields: number): ResponseHead {
  const eol = text.indexOf('\r\n');
  const line = eol < 0 ? text : text.slice(0, eol);
  const sp1 = line.indexOf(' ');
  if (sp1 < 0) throw new Http1ParseError(400, 'invalid status line');
  const minor = versionMinor(line.slice(0, sp1));
  const code = line.slice(sp1 + 1, sp1 + 4);
  if (!/^[1-9]\d\d$/.test(code) || (line.length > sp1 + 4 && line.charCodeAt(sp1 + 4) !== 0x20)) throw new Http1ParseError(400, 'invalid status code');
  const reason = line.slice(sp1 + 5);
  if (!isFieldValue(reason)) throw new Http1ParseError(400, 'invalid reason phrase');
  const headers = eol < 0 ? {} : parseFields(text, eol + 2, maxFields);
  return { status: Number(code), reason, minor, headers };
}

function contentLength(v: string | string[]): number {
  const s = typeof v === 'string' ? v : (v[0] ?? '');
  if (!/^\d{1,15}$/.test(s)) throw new Http1ParseError(400, 'invalid Content-Length');
  return Number(s);
}

/** Transfer-Encoding's last coding is chunked; chunked anywhere else is refused. */
function chunkedLast(te: string): boolean {
  const codings = te.toLowerCase().split(',').map(trimOws);
  const i = codings.indexOf('chunked');
  if (i >= 0 && i !== codings.length - 1) throw new Http1ParseError(400, 'chunked is not the final transfer coding');
  return i === codings.length - 1;
}

export function requestFraming(h: RequestHead): Framing {
  const te = h.headers['transfer-encoding'];
  const cl = h.headers['content-length'];
  if (te !== undefined) {
    if (cl !== undefined) throw new Http1ParseError(400, 'both Content-Length and Transfer-Encoding');
    if (h.minor === 0 || !chunkedLast(String(te))) throw new Http1ParseError(400, 'unsupported Transfer-Encoding');
    return CHUNKED;
  }
  if (cl === undefined) return NONE;
  const bytes = contentLength(cl);
  return bytes === 0 ? NONE : { kind: 'length', bytes };
}

/** RFC 9112 section 6.3: no body for HEAD, 1xx, 204 and 304; else chunked, a length, or until close. */
export function responseFraming(h: ResponseHead, requestMethod: string): Framing {
  if (requestMethod === 'HEAD' || h.status < 200 || h.status === 204 || h.status === 304) return NONE;
  const te = h.headers['transfer-encoding'];
  if (te !== undefined) return chunkedLast(String(te)) ? CHUNKED : CLOSE;
  const cl = h.headers['content-length'];
  if (cl === undefined) return CLOSE;
  const bytes = contentLength(cl);
  return bytes === 0 ? NONE : { kind: 'length', bytes };
}

/** Whether the connection stays open after this message (RFC 9112 section 9.3). */
export function keepAlive(minor: number, headers: HeaderRecord): boolean {
  const c = headers.connection;
  if (c === undefined) return minor === 1;
  const tokens = String(c).toLowerCase();
  if (tokens.includes('close')) return false;
  return minor === 1 || tokens.includes('keep-alive');
}
