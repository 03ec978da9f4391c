/**
 * Network namespaces and TCP sockets created inside them. Mirrors ztunnel's in-pod mode
 * (Z:src/inpod/netns.rs): a socket belongs to the netns it was created in, so only socket() runs in
 * the pod netns, on the addon's helper thread; the calling JS thread never changes its netns.
 * Every fd returned here is non-blocking and close-on-exec, and owned by the caller until handed
 * to Node (`serverFromFd` / `socketFromFd`), after which Node closes it.
 */
import fs from 'node:fs';
import { loadAddon, type NativeSocketOptions } from './addon';

export type SocketOptions = NativeSocketOptions;

export interface ListenOptions extends SocketOptions {
  /** IP literal to bind; defaults to 0.0.0.0 / :: for the family. */
  host?: string;
  /** 0 picks an ephemeral port. */
  port: number;
  backlog?: number;
}

/** Opens a netns file (/proc/<pid>/ns/net, /var/run/netns/<name>); throws EINVAL if it is not one. */
export function openNetns(path: string): number {
  return loadAddon().openNetns(path);
}

export function closeFd(fd: number): void {
  loadAddon().closeFd(fd);
}

export function dupFd(fd: number): number {
  return loadAddon().dupFd(fd);
}

export function isNetnsFd(fd: number): boolean {
  return loadAddon().isNetnsFd(fd);
}

/** Inode of a namespace fd: two fds refer to the same netns exactly when (dev, inode) match. */
export function netnsInode(fd: number): number {
  return fs.fstatSync(fd).ino;
}

/** An unbound TCP socket fd created inside `netnsFd` (null = the current netns). */
export function createSocketInNetns(netnsFd: number | null, opts: SocketOptions = {}): number {
  return loadAddon().createSocketInNetns(netnsFd, opts);
}

/** A listening TCP socket fd created, bound and listening inside `netnsFd` (null = the current netns). */
export function listenInNetns(netnsFd: number | null, opts: ListenOptions): number {
  return loadAddon().listenInNetns(netnsFd, opts);
}
