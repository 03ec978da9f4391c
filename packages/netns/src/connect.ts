/**
 * Outbound TCP from inside a netns, optionally from a spoofed source address (ztunnel's inbound path
 * connects to the app from the original client IP: IP_TRANSPARENT + SO_MARK + bind(src) + connect).
 *
 * Design: the addon creates the socket in the netns, sets options, binds and starts a non-blocking
 * connect(), returning at once. We then wait for writability on a libuv poll handle (no threads, no
 * busy loop), read SO_ERROR, and only then hand the fd to Node, because `new net.Socket({fd})` expects
 * a socket that is already connected.
 */
import type net from 'node:net';
import { loadAddon, POLL_WRITABLE, type ConnectStarted, type NativeAddon, type NativeConnectOptions } from './addon';
import { errnoError } from './errors';
import { socketFromFd } from './net-fd';

export const CONNECT_TIMEOUT_MS = 10_000;

export interface ConnectOptions extends NativeConnectOptions {
  timeoutMs?: number;
  /** For connectSocketInNetns: see SocketFromFdOptions.allowHalfOpen. */
  allowHalfOpen?: boolean;
}

/** Resolves a connected, non-blocking TCP fd created in `netnsFd` (null = the current netns). */
export function connectInNetns(netnsFd: number | null, opts: ConnectOptions): Promise<number> {
  // The addon reads only the native options' keys, so opts goes as is (no copy per connection).
  return startAndWait((addon) => addon.connectStart(netnsFd, opts), opts);
}

/**
 * connectInNetns for a socket that already exists (made ahead of time in its netns by a
 * NetnsSocketPool): options, bind and connect act in the socket's own netns. Takes ownership of `fd`.
 */
export function connectFd(fd: number, opts: ConnectOptions): Promise<number> {
  return startAndWait((addon) => addon.connectFdStart(fd, opts), opts);
}

function startAndWait(start: (addon: NativeAddon) => ConnectStarted, opts: ConnectOptions): Promise<number> {
  let started: ConnectStarted;
  try {
    started = start(loadAddon());
  } catch (err) {
    return Promise.reject(err);
  }
  return whenConnected(started, opts);
}

/** Waits for a non-blocking connect to finish: writability on a libuv poll handle, then SO_ERROR. */
function whenConnected(started: ConnectStarted, opts: ConnectOptions): Promise<number> {
  const { fd } = started;
  if (!started.pending) return Promise.resolve(fd);
  const addon = loadAddon();
  return new Promise<number>((resolve, reject) => {
    let poller: ReturnType<typeof createPoller> | undefined;
    let done = false;
    const finish = (code: string | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      poller?.close();
      if (code === null) {
        resolve(fd);
        return;
      }
      addon.closeFd(fd);
      const target = `${opts.host}:${opts.port}`;
      reject(errnoError(code, 'connect', `is ${target} reachable and listening from this network namespace?`));
    };
    const timer = setTimeout(() => finish('ETIMEDOUT'), opts.timeoutMs ?? CONNECT_TIMEOUT_MS);
    const createPoller = (): InstanceType<typeof addon.FdPoller> =>
      // libuv reports POLLERR as status EBADF; SO_ERROR holds the real reason (e.g. ECONNREFUSED).
      new addon.FdPoller(fd, (status) => finish(addon.socketError(fd) ?? status));
    try {
      poller = createPoller();
      poller.start(POLL_WRITABLE);
    } catch (err) {
      done = true;
      clearTimeout(timer);
      poller?.close();
      addon.closeFd(fd);
      reject(err);
    }
  });
}

/** connectInNetns, wrapped in a net.Socket that owns the fd. */
export async function connectSocketInNetns(netnsFd: number | null, opts: ConnectOptions): Promise<net.Socket> {
  return socketFromFd(await connectInNetns(netnsFd, opts), { allowHalfOpen: opts.allowHalfOpen ?? false });
}
