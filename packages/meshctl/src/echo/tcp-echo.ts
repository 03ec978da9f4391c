import type { Socket } from 'node:net';
import type { EchoServerConfig } from './args';
import { unmapV4 } from './http-handler';

const HELLO = Buffer.from('hello');
const MAX_HELLO_LINE_BYTES = 7; // "hello\r\n"

/**
 * Echoes bytes back. A first line of exactly `hello` is answered with one JSON line describing the caller
 * (as this pod sees it: after any NAT or proxy), then echoing continues.
 */
export function handleTcpEcho(cfg: EchoServerConfig, sock: Socket): void {
  let head = Buffer.alloc(0);
  sock.on('error', () => sock.destroy());
  const onData = (chunk: Buffer) => {
    head = Buffer.concat([head, chunk]);
    const nl = head.indexOf(0x0a);
    const undecided = nl < 0 && head.length < MAX_HELLO_LINE_BYTES && HELLO.subarray(0, head.length).equals(head.subarray(0, HELLO.length));
    if (undecided) return;
    sock.off('data', onData);
    let rest = head;
    if (nl >= 0) {
      const line = head.subarray(0, nl).toString('utf8').replace(/\r$/, '');
      if (line === 'hello') {
        sock.write(JSON.stringify(callerInfo(cfg, sock)) + '\n');
        rest = head.subarray(nl + 1);
      }
    }
    if (rest.length > 0) sock.write(rest);
    sock.pipe(sock);
  };
  sock.on('data', onData);
}

function callerInfo(cfg: EchoServerConfig, sock: Socket) {
  return {
    pod: cfg.pod,
    namespace: cfg.namespace,
    version: cfg.version,
    serviceAccount: cfg.serviceAccount,
    remoteAddress: unmapV4(sock.remoteAddress),
    remotePort: sock.remotePort ?? 0,
    localAddress: unmapV4(sock.localAddress),
    localPort: sock.localPort ?? 0,
    protocol: 'TCP',
  };
}
