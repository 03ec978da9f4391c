// Workload TLS contexts for the data path: one SecureContext per issued certificate, reused by every
// connection of that identity (a context per connection costs a full key/cert parse). A connection never
// waits for a certificate forever: ztunnel fails the connection once the fetch times out.
import type { SecureContext } from 'node:tls';
import { createHboneSecureContext } from '@mesh/hbone';
import { type CertificateManager, type Identity, type WorkloadCertificate } from '@mesh/identity';

export const CERT_WAIT_TIMEOUT_MS = 10_000;

export interface WorkloadCredentials {
  secureContext(identity: Identity): Promise<SecureContext>;
}

export class ManagedCredentials implements WorkloadCredentials {
  private readonly contexts = new WeakMap<WorkloadCertificate, SecureContext>();

  constructor(
    private readonly certs: Pick<CertificateManager, 'get'>,
    private readonly waitTimeoutMs = CERT_WAIT_TIMEOUT_MS,
  ) {}

  async secureContext(identity: Identity): Promise<SecureContext> {
    const cert = await this.certs.get(identity, { timeoutMs: this.waitTimeoutMs });
    let ctx = this.contexts.get(cert);
    if (ctx === undefined) {
      ctx = createHboneSecureContext({ key: cert.keyPem, certChain: cert.certChainPem.join('\n'), roots: cert.rootsPem });
      this.contexts.set(cert, ctx);
    }
    return ctx;
  }
}
