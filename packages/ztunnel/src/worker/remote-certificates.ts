// A worker's view of the main thread's CertificateManager: the `get` ManagedCredentials needs. Certificates
// live in the main thread (one CA client, one rotation timer per identity); a worker asks for one on first use
// and receives every rotation as a push, so it builds a new SecureContext at the same time the main thread
// would.
import { formatSpiffeId, type Identity, type WorkloadCertificate } from '@mesh/identity';

export type CertificateRequester = (identity: Identity, timeoutMs: number) => Promise<WorkloadCertificate>;

export class RemoteCertificates {
  private readonly certs = new Map<string, WorkloadCertificate>();
  private readonly inFlight = new Map<string, Promise<WorkloadCertificate>>();

  constructor(private readonly request: CertificateRequester, private readonly now: () => number = Date.now) {}

  get(identity: Identity, options: { timeoutMs?: number } = {}): Promise<WorkloadCertificate> {
    const key = formatSpiffeId(identity);
    const cert = this.certs.get(key);
    if (cert !== undefined && this.now() < cert.notAfterMs) return Promise.resolve(cert);
    let p = this.inFlight.get(key);
    if (p === undefined) {
      p = this.request(identity, options.timeoutMs ?? 10_000)
        .then((c) => {
          this.store(c);
          return this.certs.get(key) ?? c;
        })
        .finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, p);
    }
    return p;
  }

  /** A rotation pushed by the main thread; an older certificate never replaces a newer one. */
  store(cert: WorkloadCertificate): void {
    const key = formatSpiffeId(cert.identity);
    const have = this.certs.get(key);
    if (have === undefined || have.notBeforeMs <= cert.notBeforeMs) this.certs.set(key, cert);
  }
}
