/**
 * Socket options on existing fds, including the fds behind Node sockets (`fdOf`). ztunnel marks every
 * socket it opens with SO_MARK 1337 so the in-pod iptables rules skip its own traffic, and reads
 * SO_ORIGINAL_DST on connections the rules REDIRECTed to 15001/15006.
 */
import type net from 'node:net';
import { loadAddon, type NativeSockAddr } from './addon';
import { NetnsError } from './errors';

export type SockAddr = NativeSockAddr;

/**
 * The OS fd behind a Node socket or server. Uses the internal `_handle.fd` (stable across Node
 * versions for TCP/pipe handles); throws FD_UNAVAILABLE when the socket is not yet connected/listening,
 * already destroyed, or not fd-backed.
 */
export function fdOf(socket: net.Socket | net.Server): number {
  const handle = (socket as unknown as { _handle?: { fd?: unknown } | null })._handle;
  const fd = handle?.fd;
  if (typeof fd !== 'number' || fd < 0) {
    throw new NetnsError(
      'FD_UNAVAILABLE',
      'socket has no OS file descriptor: is it connected/listening and not destroyed? (needs a TCP or pipe handle)',
    );
  }
  return fd;
}

export function setMark(fd: number, mark: number): void {
  loadAddon().setMark(fd, mark);
}

export function getMark(fd: number): number {
  return loadAddon().getMark(fd);
}

export function setReusePort(fd: number): void {
  loadAddon().setReusePort(fd);
}

/** IP_TRANSPARENT (IPV6_TRANSPARENT on IPv6 sockets): bind non-local, e.g. spoofed client, addresses. */
export function setTransparent(fd: number): void {
  loadAddon().setTransparent(fd);
}

export function setFreebind(fd: number): void {
  loadAddon().setFreebind(fd);
}

/** Destination before iptables REDIRECT (SO_ORIGINAL_DST / IP6T_SO_ORIGINAL_DST). */
export function getOriginalDst(fd: number): SockAddr {
  return loadAddon().getOriginalDst(fd);
}

export function getLocalAddress(fd: number): SockAddr {
  return loadAddon().getLocalAddress(fd);
}
