// Connecting to the app inside the pod, as ztunnel does: from the pod netns, SO_MARK set, and bound to the
// client's own IP with IP_TRANSPARENT so the app sees the real source (Z:src/proxy/inbound.rs). Without the
// privilege (or the in-pod policy routing) the spoofed connect fails; then connect from the pod IP instead.
import type { Socket } from 'node:net';
import type { NetnsSocketPool } from '@mesh/netns';

export const UPSTREAM_CONNECT_TIMEOUT_MS = 10_000;
const NO_SPOOF_CODES = new Set(['EPERM', 'EACCES', 'EADDRNOTAVAIL', 'EINVAL', 'ENOPROTOOPT']);

export interface UpstreamTarget {
  /** The pod's sockets (its netns). */
  sockets: NetnsSocketPool;
  ip: string;
  port: number;
  sourceIp: string;
  mark: number;
}

export async function connectUpstream(t: UpstreamTarget): Promise<Socket> {
  // allowHalfOpen: the client's FIN reaches the app as shutdown(SHUT_WR) and the app's reply still flows back.
  const base = { host: t.ip, port: t.port, mark: t.mark, timeoutMs: UPSTREAM_CONNECT_TIMEOUT_MS, allowHalfOpen: true };
  let sock: Socket;
  if (t.sourceIp === '' || t.sourceIp === t.ip) {
    sock = await t.sockets.connectSocket(base);
  } else {
    try {
      sock = await t.sockets.connectSocket({ ...base, transparent: true, localHost: t.sourceIp });
    } catch (err) {
      if (!NO_SPOOF_CODES.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
      sock = await t.sockets.connectSocket(base);
    }
  }
  sock.setNoDelay(true);
  return sock;
}
