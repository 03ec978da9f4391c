import { isIP } from 'node:net';

const V4_MAPPED_PREFIX = '::ffff:';

/** Dual-stack listeners report IPv4 peers as ::ffff:a.b.c.d; state and policies use the plain IPv4 form. */
export function plainIp(address: string | undefined): string {
  if (address === undefined) return '';
  if (address.startsWith(V4_MAPPED_PREFIX) && isIP(address.slice(V4_MAPPED_PREFIX.length)) === 4) {
    return address.slice(V4_MAPPED_PREFIX.length);
  }
  return address;
}

export function isLoopbackIp(ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1';
}

export function formatAddr(ip: string, port: number): string {
  return isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}
