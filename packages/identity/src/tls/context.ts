import { createSecureContext, type ConnectionOptions, type PeerCertificate, type SecureContext, type TlsOptions } from 'node:tls';
import type { Identity } from '../spiffe/identity';
import { verifyPeerIdentity } from './peer';

/** ztunnel's TLS 1.3 suites (src/tls/lib.rs), strongest first. */
export const WORKLOAD_TLS13_CIPHERSUITES = 'TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256';
/** TLS 1.2 suites used only with TLS12_ENABLED (ECDHE + AES-GCM, as rustls offers). */
const WORKLOAD_TLS12_CIPHERS = 'ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256';
export const HBONE_ALPN = ['h2'];

export interface WorkloadCredentials {
  /** Leaf first, then intermediates. Roots may be included at the end; they are harmless in the sent chain. */
  certChainPem: string | readonly string[];
  keyPem: string;
  /** Trust anchors for verifying peers (last element of the CA response). */
  rootsPem: string;
  /** TLS12_ENABLED: also allow TLS 1.2 (off by default; ztunnel is TLS 1.3 only). */
  allowTls12?: boolean;
}

function baseOptions(creds: WorkloadCredentials): TlsOptions {
  const chain = typeof creds.certChainPem === 'string' ? creds.certChainPem : creds.certChainPem.join('');
  return {
    cert: chain,
    key: creds.keyPem,
    ca: creds.rootsPem,
    minVersion: creds.allowTls12 === true ? 'TLSv1.2' : 'TLSv1.3',
    maxVersion: 'TLSv1.3',
    // Node takes TLS 1.3 suites (TLS_*) from the same `ciphers` list and applies them separately.
    ciphers: creds.allowTls12 === true ? `${WORKLOAD_TLS13_CIPHERSUITES}:${WORKLOAD_TLS12_CIPHERS}` : WORKLOAD_TLS13_CIPHERSUITES,
  };
}

/** One SecureContext per identity; build it when the certificate rotates and reuse it for every connection. */
export function createWorkloadTlsContext(creds: WorkloadCredentials): SecureContext {
  return createSecureContext(baseOptions(creds));
}

/**
 * Options for an HBONE server (tls.createServer / http2.createSecureServer): client
 * certificate required and chain-verified. Still call verifySameTrustDomain on the peer after the handshake.
 */
export function workloadServerOptions(creds: WorkloadCredentials): TlsOptions {
  // Plain options, not a SecureContext: tls.createServer ignores a `secureContext` option and builds its own.
  return { ...baseOptions(creds), requestCert: true, rejectUnauthorized: true, ALPNProtocols: [...HBONE_ALPN] };
}

/**
 * Options for an HBONE client connection: the source workload's cert, chain verification against the
 * roots, and the server's URI SAN checked against the expected identities instead of a hostname.
 * No SNI (ztunnel sends none) and no session resumption.
 */
export function workloadClientOptions(context: SecureContext, expected: readonly Identity[]): ConnectionOptions {
  // Protocol versions and suites come from the context (connect() ignores them when a context is given).
  return {
    secureContext: context,
    ALPNProtocols: [...HBONE_ALPN],
    rejectUnauthorized: true,
    // An empty servername tells Node not to send SNI even when connecting by hostname.
    servername: '',
    checkServerIdentity: (_host: string, cert: PeerCertificate): Error | undefined => {
      try {
        verifyPeerIdentity(cert, expected);
        return undefined;
      } catch (err) {
        return err as Error;
      }
    },
  };
}
