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
 * Two passes over the fields: sizes first, then one exact allocation that every field is copied into, so
 * a response of 11k cached resources costs one buffer, not a header per resource plus a concatenation.
 */
class Writer {
  private readonly fields: number[] = [];
  private readonly values: Uint8Array[] = [];
  private size = 0;

  bytes(field: number, value: Uint8Array): void {
    this.fields.push(field);
    this.values.push(value);
    this.size += varintLength((field << 3) | WIRE_LEN) + varintLength(value.byteLength) + value.byteLength;
  }

  string(field: number, value: string): void {
    if (value.length > 0) this.bytes(field, Buffer.from(value, 'utf8'));
  }

  finish(): Buffer {
    const out = Buffer.allocUnsafe(this.size);
    let o = 0;
    for (let i = 0; i < this.values.length; i++) {
      const value = this.values[i] as Uint8Array;
      o = writeVarint(out, o, ((this.fields[i] as number) << 3) | WIRE_LEN);
      o = writeVarint(out, o, value.byteLength);
      out.set(value, o);
      o += value.byteLength;
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
  for (const name of p.removed) w.bytes(6, Buffer.from(name, 'utf8'));
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
