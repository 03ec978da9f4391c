/**
 * Hands fds made by the addon to Node's net module. After this, Node owns the fd and closes it when
 * the server/socket is closed; do not closeFd() it yourself.
 */
import net from 'node:net';

/** Wraps an already listening TCP fd (from listenInNetns) in a net.Server. */
export function serverFromFd(fd: number, server: net.Server = net.createServer()): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen({ fd }, () => {
      server.off('error', onError);
      resolve(server);
    });
  });
}

export interface SocketFromFdOptions {
  /**
   * Keep the write side open after the peer's FIN (Node's default closes it at once). A proxy needs
   * this so a half-closed TCP connection keeps carrying the other direction; the caller then ends it.
   */
  allowHalfOpen?: boolean;
}

/** Wraps an already connected TCP fd (from connectInNetns) in a net.Socket. */
export function socketFromFd(fd: number, opts: SocketFromFdOptions = {}): net.Socket {
  return new net.Socket({ fd, readable: true, writable: true, allowHalfOpen: opts.allowHalfOpen ?? false });
}
