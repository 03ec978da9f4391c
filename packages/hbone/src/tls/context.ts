import { createSecureContext, type SecureContext } from 'node:tls';

export interface HboneCredentials {
  /** PEM private key of the workload. */
  key: string | Buffer;
  /** PEM leaf certificate followed by any intermediates. */
  certChain: string | Buffer;
  /** PEM trust roots used to verify the peer. */
  roots: string | Buffer | Array<string | Buffer>;
  /** Allow TLS 1.2 (ztunnel's TLS12_ENABLED); TLS 1.3 only otherwise. */
  allowTls12?: boolean;
}

/**
 * Builds a SecureContext with ztunnel's TLS parameters. Create one per identity and reuse it:
 * a context per connection costs a full key/cert parse each time.
 */
export function createHboneSecureContext(creds: HboneCredentials): SecureContext {
  return createSecureContext({
    key: creds.key,
    cert: creds.certChain,
    ca: creds.roots,
    minVersion: creds.allowTls12 ? 'TLSv1.2' : 'TLSv1.3',
    // ztunnel's TLS 1.3 suites (TLS13_AES_256_GCM_SHA384, TLS13_AES_128_GCM_SHA256) first; Node's
    // `ciphers` string carries both the 1.3 suites and the ECDHE-GCM ones used if TLS 1.2 is allowed.
    ciphers: [
      'TLS_AES_256_GCM_SHA384',
      'TLS_AES_128_GCM_SHA256',
      'ECDHE-ECDSA-AES256-GCM-SHA384',
      'ECDHE-ECDSA-AES128-GCM-SHA256',
      'ECDHE-RSA-AES256-GCM-SHA384',
      'ECDHE-RSA-AES128-GCM-SHA256',
    ].join(':'),
    ecdhCurve: 'X25519:P-256:P-384',
  });
}
