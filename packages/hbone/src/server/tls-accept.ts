import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import { HBONE_ALPN } from '../constants';
import { HboneError } from '../errors';

interface VerifyHandle {
  verifyError?: () => Error | null;
}

/**
 * The chain-verification result of a server-side TLS socket. Node only applies
 * `rejectUnauthorized` for server sockets inside tls.Server's private connection listener, and
 * tls.Server cannot take a prebuilt SecureContext (we need one reused context per identity, chosen
 * by local address since HBONE sends no SNI). So we read the same verifier result Node reads.
 * Fails closed if the accessor ever disappears; the other-CA test guards this.
 */
function chainVerifyError(sock: TLSSocket): Error | null {
  const handle = (sock as unknown as { _handle?: VerifyHandle })._handle;
  if (!handle || typeof handle.verifyError !== 'function') {
    return new Error('cannot read the TLS verification result from this Node.js version');
  }
  return handle.verifyError();
}

export interface AcceptTlsOptions {
  secureContext: SecureContext;
  handshakeTimeoutMs: number;
  allowTls12: boolean;
}

/**
 * Server half of the HBONE handshake: TLS with a required client certificate chaining to the
 * context's roots, ALPN h2, TLS 1.3 (unless allowed otherwise). Resolves with the verified socket.
 */
export function acceptTls(raw: Socket, opts: AcceptTlsOptions): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const sock = new TLSSocket(raw, {
      isServer: true,
      secureContext: opts.secureContext,
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: [HBONE_ALPN],
    });
    const timer = setTimeout(() => {
      fail(new HboneError('HBONE_TLS_FAILED', `HBONE TLS handshake not finished within ${opts.handshakeTimeoutMs} ms`));
    }, opts.handshakeTimeoutMs);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      sock.destroy();
      raw.destroy();
      reject(err instanceof HboneError ? err : new HboneError('HBONE_TLS_FAILED', `HBONE TLS handshake failed: ${err.message}`, { cause: err }));
    };
    sock.once('error', fail);
    sock.once('secure', () => {
      clearTimeout(timer);
      sock.removeListener('error', fail);
      const problem = checkEstablished(sock, opts.allowTls12);
      if (problem) {
        sock.destroy();
        reject(problem);
        return;
      }
      // tls.Server's private 'secure' handler clears this flag; node:http2 waits for a
      // 'secureConnect' (client-only event) while it is set, so clear it as that handler would.
      (sock as unknown as { secureConnecting: boolean }).secureConnecting = false;
      resolve(sock);
    });
  });
}

function checkEstablished(sock: TLSSocket, allowTls12: boolean): HboneError | undefined {
  const verifyError = chainVerifyError(sock);
  if (verifyError) {
    return new HboneError(
      'HBONE_TLS_FAILED',
      `HBONE client certificate rejected: ${verifyError.message}; check the client's certificate is issued by this mesh's CA`,
      { cause: verifyError },
    );
  }
  const version = sock.getProtocol();
  if (version !== 'TLSv1.3' && !(allowTls12 && version === 'TLSv1.2')) {
    return new HboneError('HBONE_TLS_FAILED', `HBONE requires TLS 1.3, client negotiated ${String(version)}`);
  }
  if (sock.alpnProtocol !== HBONE_ALPN) {
    return new HboneError('HBONE_TLS_FAILED', `HBONE requires ALPN h2, client negotiated ${String(sock.alpnProtocol)}`);
  }
  return undefined;
}
