/**
 * Hand-assembled DiscoveryResponse / DeltaDiscoveryResponse bytes. Only the top-level message is built
 * per push; each resource is a cached, already-encoded blob (StoredResource), copied in as a
 * length-delimited field. Field numbers are envoy.service.discovery.v3's.
 */
const WIRE_LEN = 2;

function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

/**
 * Two passes over the fields: sizes first, then one exact allocation that every field is written into, so
 * a response of 11k cached resources costs one buffer, not a header per resource plus a concatenation.
 * Strings are written in place, never staged in their own Buffers.
 */
class Writer {
  private readonly fields: number[] = [];
  private readonly values: (Uint8Array | string)[] = [];
  private readonly lengths: number[] = [];
  private size = 0;

  bytes(field: number, value: Uint8Array): void {
    this.add(field, value, value.byteLength);
  }

  string(field: number, value: string): void {
    if (value.length > 0) this.add(field, value, Buffer.byteLength(value, 'utf8'));
  }

  /** A repeated string field: present even when empty. */
  repeatedString(field: number, value: string): void {
    this.add(field, value, Buffer.byteLength(value, 'utf8'));
  }

  private add(field: number, value: Uint8Array | string, len: number): void {
    this.fields.push(field);
    this.values.push(value);
    this.lengths.push(len);
    this.size += varintLength((field << 3) | WIRE_LEN) + varintLength(len) + len;
  }

  finish(): Buffer {
    const out = Buffer.allocUnsafe(this.size);
    let o = 0;
    for (let i = 0; i < this.values.length; i++) {
      const value = this.values[i] as Uint8Array | string;
      const len = this.lengths[i] as number;
      o = writeVarint(out, o, ((this.fields[i] as number) << 3) | WIRE_LEN);
      o = writeVarint(out, o, len);
      if (typeof value === 'string') out.write(value, o, len, 'utf8');
      else out.set(value, o);
      o += len;
    }
    return out;
  }
}

function writeVarint(buf: Buffer, offset: number, n: number): number {
  while (n >= 0x80) {
    buf[offset++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[offset++] = n;
  return offset;
}

export interface DeltaResponseParts {
  systemVersionInfo: string;
  typeUrl: string;
  nonce: string;
  resources: readonly Uint8Array[];
  removed: readonly string[];
}

/** envoy.service.discovery.v3.DeltaDiscoveryResponse */
export function encodeDeltaResponse(p: DeltaResponseParts): Buffer {
  const w = new Writer();
  w.string(1, p.systemVersionInfo);
  for (const r of p.resources) w.bytes(2, r);
  w.string(4, p.typeUrl);
  w.string(5, p.nonce);
  for (const name of p.removed) w.repeatedString(6, name);
  return w.finish();
}

export interface SotwResponseParts {
  versionInfo: string;
  typeUrl: string;
  nonce: string;
  resources: readonly Uint8Array[];
}

/** envoy.service.discovery.v3.DiscoveryResponse */
export function encodeSotwResponse(p: SotwResponseParts): Buffer {
  const w = new Writer();
  w.string(1, p.versionInfo);
  for (const r of p.resources) w.bytes(2, r);
  w.string(4, p.typeUrl);
  w.string(5, p.nonce);
  return w.finish();
}
