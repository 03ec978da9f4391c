import { isIP } from 'node:net';

/**
 * RFC 7239 `forwarded` as ztunnel sends it on every CONNECT:
 * `for="<srcIP:srcPort>"` plus `;host=<service FQDN>` when the destination was service-addressed.
 * The receiver only uses `host=` (to label metrics with the service).
 */
export interface ForwardedInfo {
  /** Client IP (no brackets) when `for=` held an IP. */
  forIp?: string;
  forPort?: number;
  /** The raw `for=` node when it is not an IP (e.g. `unknown`, `_hidden`). */
  forNode?: string;
  host?: string;
  proto?: string;
  by?: string;
}

export function formatForwarded(srcIp: string, srcPort: number, serviceHost?: string): string {
  const node = isIP(srcIp) === 6 ? `[${srcIp}]:${srcPort}` : `${srcIp}:${srcPort}`;
  const forPart = `for="${node}"`;
  return serviceHost ? `${forPart};host=${serviceHost}` : forPart;
}

function unquote(value: string): string {
  const v = value.trim();
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) {
    return v.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  return v;
}

function splitNode(node: string): { ip?: string; port?: number; node?: string } {
  let host = node;
  let portRaw: string | undefined;
  if (node.startsWith('[')) {
    const close = node.indexOf(']');
    if (close < 0) return { node };
    host = node.slice(1, close);
    if (node[close + 1] === ':') portRaw = node.slice(close + 2);
  } else if (node.split(':').length === 2) {
    const idx = node.indexOf(':');
    host = node.slice(0, idx);
    portRaw = node.slice(idx + 1);
  }
  if (!isIP(host)) return { node };
  const port = portRaw !== undefined && /^[0-9]{1,5}$/.test(portRaw) ? Number(portRaw) : undefined;
  return port !== undefined && port <= 65535 ? { ip: host, port } : { ip: host };
}

function applyPair(out: ForwardedInfo, key: string, value: string): void {
  switch (key) {
    case 'for': {
      if (out.forIp !== undefined || out.forNode !== undefined) return;
      const n = splitNode(value);
      if (n.ip !== undefined) out.forIp = n.ip;
      if (n.port !== undefined) out.forPort = n.port;
      if (n.node !== undefined) out.forNode = n.node;
      return;
    }
    case 'host':
      if (out.host === undefined && value) out.host = value;
      return;
    case 'proto':
      if (out.proto === undefined && value) out.proto = value;
      return;
    case 'by':
      if (out.by === undefined && value) out.by = value;
      return;
  }
}

/**
 * Parses the first forwarded element. Never throws: unknown or malformed pairs are skipped,
 * so the result may be empty. Only the first element (before ',') is read, as it is the
 * one closest to the original client.
 */
export function parseForwarded(header: string | undefined): ForwardedInfo {
  const out: ForwardedInfo = {};
  if (typeof header !== 'string') return out;
  const first = header.split(',')[0] ?? '';
  for (const pair of first.split(';')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    applyPair(out, pair.slice(0, eq).trim().toLowerCase(), unquote(pair.slice(eq + 1)));
  }
  return out;
}
