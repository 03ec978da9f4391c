import { isIPv4, isIPv6 } from 'node:net';

/** Parses an IPv4/IPv6 literal into 4 or 16 raw bytes (what WDS carries); undefined when not an IP. */
export function parseIp(text: string): Uint8Array | undefined {
  if (isIPv4(text)) return Uint8Array.from(text.split('.').map(Number));
  if (!isIPv6(text) || text.includes('%')) return undefined;
  return parseIpv6(text);
}

function parseIpv6(text: string): Uint8Array | undefined {
  let s = text;
  const tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  const maybeV4 = s.slice(lastColon + 1);
  if (isIPv4(maybeV4)) {
    const b = maybeV4.split('.').map(Number);
    tail.push((b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!);
    s = s.slice(0, lastColon + 1) + (s.endsWith('::' + maybeV4) ? '' : '0');
    if (!s.endsWith('::') && tail.length > 0) s = s.slice(0, -2);
  }
  const [head, rest] = s.includes('::') ? s.split('::') : [s, undefined];
  const parse = (p: string | undefined): number[] => (p === undefined || p === '' ? [] : p.split(':').map((h) => parseInt(h, 16)));
  const h = parse(head);
  const r = [...parse(rest), ...tail];
  const fill = rest === undefined ? 0 : 8 - h.length - r.length;
  const groups = rest === undefined ? [...h, ...r] : [...h, ...new Array<number>(fill).fill(0), ...r];
  if (groups.length !== 8 || groups.some((g) => Number.isNaN(g))) return undefined;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}

/** `10.0.0.0/8` or a bare IP (host prefix); the address is masked like Go's netip.Prefix.Masked. */
export function parseCidr(text: string): { address: Uint8Array; length: number } | undefined {
  const slash = text.indexOf('/');
  const ip = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (ip === undefined) return undefined;
  const max = ip.length * 8;
  if (slash < 0) return { address: ip, length: max };
  const lenText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText)) return undefined;
  const length = Number(lenText);
  if (length > max) return undefined;
  return { address: mask(ip, length), length };
}

function mask(ip: Uint8Array, bits: number): Uint8Array {
  const out = Uint8Array.from(ip);
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    out[i] = out[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}
