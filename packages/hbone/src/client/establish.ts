import http2, { type ClientHttp2Session } from 'node:http2';
import net, { type Socket } from 'node:net';
import tls, { type SecureContext, type TLSSocket } from 'node:tls';
import { formatAuthority, type HboneAuthority } from '../authority';
import {
  H2_CLIENT_MAX_HEADER_LIST_BYTES,
  H2_CONNECTION_WINDOW_BYTES,
  H2_MAX_FRAME_BYTES,
  H2_MAX_SESSION_MEMORY_MB,
  H2_STREAM_WINDOW_BYTES,
  HBONE_ALPN,
} from '../constants';
import { HboneError } from '../errors';
import { verifyServerSans } from '../tls/identity';

export interface HboneTlsOptions {
  /** The SOURCE workload's context: its cert is the client cert; its roots verify the server. */
  secureContext: SecureContext;
  /** Server must present one of these URI SANs exactly; defaults to the key's dstIdentities. */
  expectedSans?: readonly string[];
}

export interface EstablishOptions {
  nextHop: HboneAuthority;
  tls: HboneTlsOptions;
  expectedSans: readonly string[];
  maxStreams: number;
  signal: AbortSignal;
  dial: (signal: AbortSignal) => Promise<Socket> | Socket;
}

export function defaultDial(nextHop: HboneAuthority, signal: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: nextHop.host, port: nextHop.port, noDelay: true, signal });
    sock.once('connect', () => {
      sock.removeListener('error', reject);
      resolve(sock);
    });
    sock.once('error', reject);
  });
}

function connectionFailed(where: string, err: unknown): HboneError {
  if (err instanceof HboneError) return err;
  const e = err as NodeJS.ErrnoException;
  return new HboneError(
    'HBONE_CONNECTION_FAILED',
    `HBONE connection to ${where} failed (${e?.code ?? e?.message ?? String(err)}); ` +
      'check the destination listens on the HBONE port 15008 and no NetworkPolicy blocks it',
    { cause: err },
  );
}

function tlsFailed(where: string, err: unknown): HboneError {
  if (err instanceof HboneError) return err;
  const e = err as NodeJS.ErrnoException;
  return new HboneError(
    'HBONE_TLS_FAILED',
    `HBONE TLS handshake with ${where} failed (${e?.code ?? e?.message ?? String(err)}); ` +
      'check both workloads hold certificates from the same mesh CA',
    { cause: err },
  );
}

function startTls(raw: Socket, opts: EstablishOptions): TLSSocket {
  return tls.connect({
    socket: raw,
    secureContext: opts.tls.secureContext,
    ALPNProtocols: [HBONE_ALPN],
    // ztunnel sends no SNI and checks URI SANs instead of a hostname.
    servername: '',
    rejectUnauthorized: true,
    checkServerIdentity: (_host, cert) => verifyServerSans(cert, opts.expectedSans),
  });
}

/**
 * Runs TLS and HTTP/2 setup as one step and waits for the server's SETTINGS: only then is its
 * MAX_CONCURRENT_STREAMS known, and only a server that accepted our client certificate sends
 * them (with TLS 1.3 the client finishes its handshake before the server has verified it, so a
 * rejection arrives as an alert just after 'secureConnect'; the session must already own the socket).
 */
function startH2(sock: TLSSocket, opts: EstablishOptions, where: string): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`https://${formatAuthority(opts.nextHop.host, opts.nextHop.port)}`, {
      createConnection: () => sock,
      maxSessionMemory: H2_MAX_SESSION_MEMORY_MB,
      peerMaxConcurrentStreams: opts.maxStreams,
      settings: {
        enablePush: false,
        initialWindowSize: H2_STREAM_WINDOW_BYTES,
        maxFrameSize: H2_MAX_FRAME_BYTES,
        maxHeaderListSize: H2_CLIENT_MAX_HEADER_LIST_BYTES,
      },
    });
    let done = false;
    const fail = (err: unknown): void => {
      if (done) return;
      done = true;
      cleanup();
      session.destroy();
      reject(tlsFailed(where, err ?? new Error('server closed the connection before HTTP/2 SETTINGS (client certificate rejected?)')));
    };
    const onError = (err: unknown): void => fail(err);
    const onClose = (): void => fail(undefined);
    const onAbort = (): void => fail(opts.signal.reason);
    const cleanup = (): void => {
      session.removeListener('close', onClose);
      sock.removeListener('close', onClose);
      opts.signal.removeEventListener('abort', onAbort);
    };
    // The socket is watched too: after a certificate alert that arrives right after the handshake,
    // Node 20 emits the error on the socket but neither the socket nor the session closes.
    // The error listeners stay attached (errors can repeat); fail() runs once.
    session.on('error', onError);
    sock.on('error', onError);
    session.once('close', onClose);
    sock.once('close', onClose);
    opts.signal.addEventListener('abort', onAbort, { once: true });
    session.once('connect', () => {
      if (sock.alpnProtocol !== HBONE_ALPN) {
        fail(new Error(`server did not negotiate ALPN h2 (got ${String(sock.alpnProtocol)})`));
        return;
      }
      session.setLocalWindowSize(H2_CONNECTION_WINDOW_BYTES);
    });
    session.once('remoteSettings', () => {
      if (done) return;
      done = true;
      cleanup();
      resolve(session);
    });
  });
}

/** TCP (via dial) + mTLS + HTTP/2 handshake to one next hop. */
export async function establishSession(opts: EstablishOptions): Promise<ClientHttp2Session> {
  const where = formatAuthority(opts.nextHop.host, opts.nextHop.port);
  let raw: Socket;
  try {
    raw = await opts.dial(opts.signal);
  } catch (err) {
    throw opts.signal.aborted ? opts.signal.reason : connectionFailed(where, err);
  }
  raw.setNoDelay(true);
  if (opts.signal.aborted) {
    raw.destroy();
    throw opts.signal.reason;
  }
  return startH2(startTls(raw, opts), opts, where);
}
