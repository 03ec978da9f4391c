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

/** Wraps an already connected TCP fd (from connectInNetns) in a net.Socket. */
export function socketFromFd(fd: number): net.Socket {
  return new net.Socket({ fd, readable: true, writable: true });
}
