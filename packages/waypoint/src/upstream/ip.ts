// Addresses travel as raw bytes in xDS (4 or 16 bytes); the waypoint keys everything by canonical text,
// with IPv4-mapped IPv6 folded to IPv4 (Node reports `::ffff:a.b.c.d` for v4 peers of dual-stack sockets).

/** 4 or 16 bytes -> canonical IP text; undefined for any other length. */
export function bytesToIp(bytes: Uint8Array): string | undefined {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (bytes.length !== 16) return undefined;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return canonicalIp(groups.join(':'));
}

/** Canonical text of an IP literal (RFC 5952 for v6, mapped v4 folded); other text unchanged. */
export function canonicalIp(text: string): string {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (!bare.includes(':')) return bare;
  const lower = bare.toLowerCase();
  if (lower.startsWith('::ffff:') && lower.slice(7).includes('.')) return lower.slice(7);
  try {
    return new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  } catch {
    return bare;
  }
}

/** `ip:port`, bracketing IPv6 (the HBONE :authority form). */
export function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}
