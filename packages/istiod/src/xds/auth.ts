import { timingSafeEqual, createHash } from 'node:crypto';
import type { Metadata, ServerDuplexStream } from '@grpc/grpc-js';
import { XdsUnauthenticatedError } from './errors';

/** Who is on the other end of an xDS stream. */
export interface XdsPrincipal {
  /** e.g. a SPIFFE id from the client certificate, or `token` for a static bearer token. */
  readonly identity: string;
  readonly method: 'token' | 'mtls' | 'none' | (string & {});
}

/** What the authenticator sees of the call (kept narrow so it can be built in tests). */
export interface AuthRequest {
  readonly metadata: Metadata;
  /** `ip:port` of the peer (grpc-js `call.getPeer()`). */
  readonly peer: string;
  /** Verified peer certificate, when the server requires client certificates (see mtlsAuthenticator). */
  readonly peerCertificate: { subjectaltname?: string; subject?: unknown } | undefined;
}

/** Resolves the principal or throws XdsUnauthenticatedError (any other error is treated the same way). */
export type XdsAuthenticator = (request: AuthRequest) => Promise<XdsPrincipal>;

/** Builds an AuthRequest from a grpc-js call. */
export function authRequestOf<A, B>(call: ServerDuplexStream<A, B>): AuthRequest {
  const ctx = call.getAuthContext();
  const cert = ctx.sslPeerCertificate;
  const hasCert = cert !== undefined && cert !== null && Object.keys(cert).length > 0;
  return { metadata: call.metadata, peer: call.getPeer(), peerCertificate: hasCert ? cert : undefined };
}

/** Accepts everyone; for insecure loopback tests and trusted single-node demos only. */
export const allowAllAuthenticator: XdsAuthenticator = async () => ({ identity: 'anonymous', method: 'none' });

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/**
 * Directory mode: every client presents `authorization: Bearer <token>` with one static token. Both
 * sides are hashed first so the comparison is constant-time regardless of length.
 */
export function staticTokenAuthenticator(token: string): XdsAuthenticator {
  if (token === '') throw new TypeError('staticTokenAuthenticator needs a non-empty token');
  const want = digest(token);
  return async (req) => {
    const header = req.metadata.get('authorization')[0];
    if (typeof header !== 'string' || !header.startsWith('Bearer ')) {
      throw new XdsUnauthenticatedError({ peer: req.peer, reason: 'no "authorization: Bearer <token>" header' });
    }
    if (!timingSafeEqual(digest(header.slice('Bearer '.length)), want)) {
      throw new XdsUnauthenticatedError({ peer: req.peer, reason: 'the bearer token does not match' });
    }
    return { identity: 'token', method: 'token' };
  };
}

const SPIFFE_SAN_RE = /URI:(spiffe:\/\/[^,\s]+)/;

/**
 * mTLS: serve with `ServerCredentials.createSsl(root, [keyPair], true)` so grpc-js completes the handshake
 * only when the client certificate chains to `root`; a stream that reaches us with a peer certificate is
 * therefore verified. The principal is the certificate's SPIFFE URI SAN (or its subject when none).
 */
export const mtlsAuthenticator: XdsAuthenticator = async (req) => {
  const cert = req.peerCertificate;
  if (cert === undefined) {
    throw new XdsUnauthenticatedError({
      peer: req.peer,
      reason: 'no verified client certificate (the server must be created with checkClientCertificate=true)',
    });
  }
  const spiffe = SPIFFE_SAN_RE.exec(cert.subjectaltname ?? '')?.[1];
  return { identity: spiffe ?? JSON.stringify(cert.subject ?? {}), method: 'mtls' };
};

/** Tries each authenticator in order; the first that succeeds wins. */
export function anyOfAuthenticators(...auths: XdsAuthenticator[]): XdsAuthenticator {
  return async (req) => {
    let last: unknown;
    for (const a of auths) {
      try {
        return await a(req);
      } catch (err) {
        last = err;
      }
    }
    throw last ?? new XdsUnauthenticatedError({ peer: req.peer, reason: 'no authenticator configured' });
  };
}
