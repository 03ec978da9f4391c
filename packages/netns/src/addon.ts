/**
 * Loads the native addon lazily, so importing @mesh/netns never fails on machines without it (macOS
 * dev boxes, unit tests of other packages); only the first native call does. Search order:
 * 1. beside the current module: `dist/mesh_netns.node` next to an app bundle (tools/bundle.mjs copies it);
 * 2. the package's node-gyp output, from the source tree (src/) or from a bundle in packages/<app>/dist/.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NetnsAddonMissingError } from './errors';

export const ADDON_FILE_NAME = 'mesh_netns.node';
const BUILD_HINT = 'native addon not built: run npm run build:native -w @mesh/netns';

export interface NativeSocketOptions {
  family?: 4 | 6;
  type?: 'tcp';
  mark?: number;
  reuseport?: boolean;
  transparent?: boolean;
  freebind?: boolean;
  v6only?: boolean;
}

export interface NativeConnectOptions extends NativeSocketOptions {
  host: string;
  port: number;
  /** Local address to bind before connecting; a non-local (spoofed) one needs `transparent: true`. */
  localHost?: string;
  localPort?: number;
}

export interface ConnectStarted {
  fd: number;
  pending: boolean;
}

export interface NativeSockAddr {
  address: string;
  port: number;
  family: 4 | 6;
}

export interface NativeMessage {
  data: Buffer;
  fds: number[];
  eof: boolean;
}

export interface NativeFdPoller {
  start(events: number): void;
  stop(): void;
  close(): void;
}

/** Shape of build/Release/mesh_netns.node (native/*.c). */
export interface NativeAddon {
  openNetns(path: string): number;
  isNetnsFd(fd: number): boolean;
  closeFd(fd: number): void;
  dupFd(fd: number): number;
  createSocketInNetns(netnsFd: number | null, opts: NativeSocketOptions): number;
  listenInNetns(
    netnsFd: number | null,
    opts: NativeSocketOptions & { host?: string; port: number; backlog?: number },
  ): number;
  connectStart(netnsFd: number | null, opts: NativeConnectOptions): ConnectStarted;
  /** connectStart on an existing socket (takes ownership of fd, also on failure). */
  connectFdStart(fd: number, opts: NativeConnectOptions): ConnectStarted;
  /**
   * Queues the creation of `count` (1..64) TCP sockets inside netnsFd on the helper thread; callback
   * runs on this JS thread with the fds (owned by the caller) and, when fewer than count were made, the
   * errno-coded error. Throws (e.g. EBADF for a closed netnsFd) instead of calling back when it cannot queue.
   */
  socketsInNetnsAsync(
    netnsFd: number,
    family: 4 | 6,
    count: number,
    callback: (err: Error | null, fds: number[]) => void,
  ): void;
  setMark(fd: number, mark: number): void;
  getMark(fd: number): number;
  setReusePort(fd: number): void;
  setTransparent(fd: number): void;
  setFreebind(fd: number): void;
  socketError(fd: number): string | null;
  getOriginalDst(fd: number): NativeSockAddr;
  getLocalAddress(fd: number): NativeSockAddr;
  seqpacketListen(path: string, backlog?: number): number;
  seqpacketConnect(path: string): number;
  seqpacketAccept(fd: number): number | null;
  seqpacketPair(): [number, number];
  sendMsg(fd: number, data: Uint8Array, fds?: readonly number[]): boolean;
  recvMsg(fd: number, maxBytes: number): NativeMessage | null;
  FdPoller: new (fd: number, callback: (status: string | null, events: number) => void) => NativeFdPoller;
}

/** libuv poll event bits (UV_READABLE / UV_WRITABLE). */
export const POLL_READABLE = 1;
export const POLL_WRITABLE = 2;

let cached: NativeAddon | undefined;

export function addonCandidates(moduleDir: string): string[] {
  return [
    path.join(moduleDir, ADDON_FILE_NAME),
    path.join(moduleDir, '..', 'build', 'Release', ADDON_FILE_NAME),
    path.join(moduleDir, '..', '..', 'netns', 'build', 'Release', ADDON_FILE_NAME),
  ];
}

export function loadAddon(): NativeAddon {
  if (cached !== undefined) return cached;
  const moduleDir = path.dirname(fileURLToPath(import.meta.url));
  const candidates = addonCandidates(moduleDir);
  const found = candidates.find((p) => fs.existsSync(p));
  if (found === undefined) {
    throw new NetnsAddonMissingError(`${BUILD_HINT} (looked for ${candidates.join(', ')})`);
  }
  try {
    cached = createRequire(import.meta.url)(found) as NativeAddon;
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new NetnsAddonMissingError(`cannot load ${found}: ${why} (${BUILD_HINT})`, { cause });
  }
  return cached;
}
