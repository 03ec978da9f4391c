import { DerParseError } from '../errors';

/** One DER element inside `buf`: tag, where its content starts and where the element ends. */
export interface DerElement {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  contentStart: number;
  end: number;
}

export function readElement(buf: Buffer, offset: number, what: string): DerElement {
  const tag = buf[offset];
  let lenByte = buf[offset + 1];
  if (tag === undefined || lenByte === undefined) throw new DerParseError({ what, reason: 'truncated header' });
  let pos = offset + 2;
  let len = lenByte;
  if (lenByte & 0x80) {
    const n = lenByte & 0x7f;
    if (n === 0 || n > 4) throw new DerParseError({ what, reason: 'unsupported length encoding' });
    len = 0;
    for (let i = 0; i < n; i++) {
      lenByte = buf[pos++];
      if (lenByte === undefined) throw new DerParseError({ what, reason: 'truncated length' });
      len = len * 256 + lenByte;
    }
  }
  const end = pos + len;
  if (end > buf.length) throw new DerParseError({ what, reason: 'element runs past the end of the data' });
  return { tag, start: offset, contentStart: pos, end };
}

export function expectElement(buf: Buffer, offset: number, tag: number, what: string): DerElement {
  const el = readElement(buf, offset, what);
  if (el.tag !== tag) throw new DerParseError({ what, reason: `expected tag 0x${tag.toString(16)}, got 0x${el.tag.toString(16)}` });
  return el;
}

/** The direct children of a constructed element. */
export function children(buf: Buffer, parent: DerElement, what: string): DerElement[] {
  const out: DerElement[] = [];
  for (let pos = parent.contentStart; pos < parent.end; ) {
    const el = readElement(buf, pos, what);
    if (el.end > parent.end) throw new DerParseError({ what, reason: 'child runs past its parent' });
    out.push(el);
    pos = el.end;
  }
  return out;
}

export const raw = (buf: Buffer, el: DerElement): Buffer => buf.subarray(el.start, el.end);
export const content = (buf: Buffer, el: DerElement): Buffer => buf.subarray(el.contentStart, el.end);

/** Decode an OBJECT IDENTIFIER's content to dotted form. */
export function oidToString(bytes: Buffer): string {
  const out: number[] = [];
  let v = 0;
  for (const b of bytes) {
    v = v * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      if (out.length === 0) out.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else out.push(v);
      v = 0;
    }
  }
  return out.join('.');
}

const PEM_RE = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** Every PEM block in `text` with the given label (e.g. "CERTIFICATE"), decoded to DER. */
export function pemBlocks(text: string, label: string): Buffer[] {
  const out: Buffer[] = [];
  for (const m of text.matchAll(PEM_RE)) {
    if (m[1] === label) out.push(Buffer.from((m[2] ?? '').replace(/\s+/g, ''), 'base64'));
  }
  return out;
}

/** Split a PEM bundle into one PEM string per certificate (normalised). */
export function splitPemCertificates(text: string): string[] {
  return [...text.matchAll(PEM_RE)].filter((m) => m[1] === 'CERTIFICATE').map((m) => `${m[0].trim()}\n`);
}
