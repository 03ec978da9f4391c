// IP address helpers shared by the state store, RBAC and the outbound decision.
//
// Addresses travel as raw bytes in xDS (4 or 16 bytes, ztunnel's `byte_to_ip`) and as text on sockets. The store
// keys everything by canonical text: IPv4 dotted quad, IPv6 in RFC 5952 compressed form, and IPv4-mapped IPv6
// (`::ffff:a.b.c.d`) folded to IPv4, as ztunnel does with `socket::to_canonical` on every accepted address
// (Node reports `::ffff:10.0.0.1` for v4 peers of a dual-stack listener).

const IPV4_BYTES = 4;
const IPV6_BYTES = 16;

/** Parse IPv4/IPv6 text to 4 or 16 bytes; undefined when the text is not an IP literal. */
export function parseIp(text: string): Uint8Array | undefined {
  if (text.includes(':')) return parseIpv6(text);
  return parseIpv4(text);
}

// Hand-rolled (no split, no regex): it runs on every connection (RBAC facts, canonical peer addresses).
function parseIpv4(text: string): Uint8Array | undefined {
  const out = new Uint8Array(IPV4_BYTES);
  let octet = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      if (++digits > 3) return undefined;
      value = value * 10 + (c - 0x30);
    } else if (c === 0x2e && digits > 0 && octet < 3) {
      if (value > 255) return undefined;
      out[octet++] = value;
      value = 0;
      digits = 0;
    } else {
      return undefined;
    }
  }
  if (octet !== 3 || digits === 0 || value > 255) return undefined;
  out[3] = value;
  return out;
}

function parseIpv6(input: string): Uint8Array | undefined {
  // Zone ids (fe80::1%eth0) carry no routing meaning for policy or lookup.
  const text = input.startsWith('[') && input.endsWith(']') ? input.slice(1, -1) : input;
  const pct = text.indexOf('%');
  const body = pct >= 0 ? text.slice(0, pct) : text;
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const head = parseGroups(halves[0] as string);
  const tail = halves.length === 2 ? parseGroups(halves[1] as string) : [];
  if (head === undefined || tail === undefined) return undefined;
  const total = head.length + tail.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return undefined;
  const groups = [...head, ...new Array<number>(8 - total).fill(0), ...tail];
  const out = new Uint8Array(IPV6_BYTES);
  groups.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}

function parseGroups(text: string): number[] | undefined {
  if (text === '') return [];
  const parts = text.split(':');
  const out: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as string;
    if (i === parts.length - 1 && p.includes('.')) {
      const v4 = parseIpv4(p);
      if (v4 === undefined) return undefined;
      out.push(((v4[0] as number) << 8) | (v4[1] as number), ((v4[2] as number) << 8) | (v4[3] as number));
      continue;
    }
    if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined;
    out.push(parseInt(p, 16));
  }
  return out;
}

/** True when 16 bytes are an IPv4-mapped IPv6 address (::ffff:a.b.c.d). */
export function isV4Mapped(b: Uint8Array): boolean {
  if (b.length !== IPV6_BYTES) return false;
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/** Fold IPv4-mapped IPv6 to IPv4 (ztunnel `to_canonical`); other addresses are returned unchanged. */
export function canonicalBytes(b: Uint8Array): Uint8Array {
  return isV4Mapped(b) ? b.subarray(12, 16) : b;
}

/** Format 4/16 raw bytes as text (no canonical folding). Throws on other lengths: callers validate first. */
export function formatIp(b: Uint8Array): string {
  if (b.length === IPV4_BYTES) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  if (b.length !== IPV6_BYTES) throw new RangeError(`IP address must be 4 or 16 bytes, got ${b.length}`);
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(((b[i * 2] as number) << 8) | (b[i * 2 + 1] as number));
  // RFC 5952: compress the longest run (>= 2) of zero groups, the first one on ties.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

// Peer addresses repeat (a node has few pods and peers), so canonical text is cached; bounded by clearing.
// Only real IPs are cached: text from the network that is not one (an HBONE :authority host) must not be able
// to fill or churn the cache.
const CANONICAL_CACHE_MAX = 4096;
const canonicalCache = new Map<string, string>();

/** Canonical text for an IP given as text; undefined when not an IP literal. */
export function canonicalIp(text: string): string | undefined {
  const hit = canonicalCache.get(text);
  if (hit !== undefined) return hit;
  const b = parseIp(text);
  if (b === undefined) return undefined;
  const out = formatIp(canonicalBytes(b));
  if (canonicalCache.size >= CANONICAL_CACHE_MAX) canonicalCache.clear();
  canonicalCache.set(text, out);
  return out;
}

/** Canonical text for raw xDS bytes; undefined when the length is not 4 or 16. */
export function canonicalIpFromBytes(b: Uint8Array): string | undefined {
  if (b.length !== IPV4_BYTES && b.length !== IPV6_BYTES) return undefined;
  return formatIp(canonicalBytes(b));
}

export function isIpv6Text(ip: string): boolean {
  return ip.includes(':');
}

/** Loopback per Rust's `IpAddr::is_loopback`: 127.0.0.0/8 and ::1 (canonical text expected). */
export function isLoopback(ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1';
}

/** `network/ip` — the key of ztunnel's by-address indexes and the xDS alias name format. */
export function networkAddressKey(network: string, ip: string): string {
  return `${network}/${ip}`;
}

/** `ip:port`, or `[ip]:port` for IPv6 (the HBONE :authority form). */
export function formatSocketAddr(ip: string, port: number): string {
  return isIpv6Text(ip) ? `[${ip}]:${port}` : `${ip}:${port}`;
}
