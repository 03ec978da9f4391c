import { isIP } from 'node:net';
import { HboneError } from './errors';

/** A parsed HBONE `:authority`: `IP:port`, `[v6]:port` or `hostname:port`. */
export interface HboneAuthority {
  host: string;
  port: number;
  isIp: boolean;
  /** 4 or 6 for IP hosts, 0 for hostnames. */
  family: 0 | 4 | 6;
}

// RFC 1123 labels; a trailing dot (FQDN) is tolerated.
const HOSTNAME_RE = /^(?=.{1,253}\.?$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)*\.?$/;
const PORT_RE = /^[0-9]{1,5}$/;

function badAuthority(authority: string, why: string): HboneError {
  return new HboneError(
    'HBONE_BAD_AUTHORITY',
    `invalid HBONE authority ${JSON.stringify(authority.slice(0, 300))}: ${why} (expected IP:port, [IPv6]:port or hostname:port)`,
  );
}

function parsePort(authority: string, raw: string): number {
  if (!PORT_RE.test(raw)) throw badAuthority(authority, 'port is not a number');
  const port = Number(raw);
  if (port < 1 || port > 65535) throw badAuthority(authority, 'port out of range 1-65535');
  return port;
}

/**
 * Parses an authority the way ztunnel's inbound does: a socket address first, else host + port.
 * Throws HboneError(HBONE_BAD_AUTHORITY) on anything else.
 */
export function parseAuthority(authority: string): HboneAuthority {
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close < 0 || authority[close + 1] !== ':') throw badAuthority(authority, 'unterminated [IPv6]');
    const host = authority.slice(1, close);
    if (isIP(host) !== 6 || host.includes('%')) throw badAuthority(authority, 'not an IPv6 address');
    return { host, port: parsePort(authority, authority.slice(close + 2)), isIp: true, family: 6 };
  }
  const colon = authority.lastIndexOf(':');
  if (colon <= 0) throw badAuthority(authority, 'missing host or port');
  const host = authority.slice(0, colon);
  const port = parsePort(authority, authority.slice(colon + 1));
  const family = isIP(host);
  if (family === 4) return { host, port, isIp: true, family: 4 };
  if (family === 6) throw badAuthority(authority, 'IPv6 addresses must be in brackets');
  if (!HOSTNAME_RE.test(host)) throw badAuthority(authority, 'host is neither an IP nor a DNS name');
  return { host, port, isIp: false, family: 0 };
}

/** Same as parseAuthority but returns undefined instead of throwing. */
export function tryParseAuthority(authority: string): HboneAuthority | undefined {
  try {
    return parseAuthority(authority);
  } catch {
    return undefined;
  }
}

/** Formats host + port as an authority, bracketing IPv6 literals. */
export function formatAuthority(host: string, port: number): string {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw badAuthority(`${host}:${port}`, 'port out of range 1-65535');
  }
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
