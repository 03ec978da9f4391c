import 'reflect-metadata';
import { createPrivateKey, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { experimental } from '@grpc/grpc-js';
import type { Logger } from '@mesh/core';
import { makeIdentity, type CertificateAuthority } from '@mesh/identity';

type CertificateProvider = experimental.CertificateProvider;
type IdentityCertificateUpdateListener = experimental.IdentityCertificateUpdateListener;
type CaCertificateUpdateListener = experimental.CaCertificateUpdateListener;
type CreateParams = Parameters<typeof x509.X509CertificateGenerator.create>[0] & { signingKey: unknown };
type SigningKey = { key: CreateParams['signingKey']; algorithm: NonNullable<CreateParams['signingAlgorithm']> };

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[1] & object);

/** Lifetime of istiod's own serving certificate; re-issued at half-life. */
export const DEFAULT_SERVING_CERT_TTL_MS = 24 * 3_600_000;
const CLOCK_SKEW_MS = 60_000;
const ROTATION_RETRY_MS = 60_000;

export interface ServingCertificate {
  certChainPem: string;
  keyPem: string;
  notAfterMs: number;
}

export interface ServingCertOptions {
  ca: CertificateAuthority;
  /** DNS SANs, e.g. istiod.istio-system.svc and any configured extra names. */
  dnsNames: readonly string[];
  /** Also put istiod's SPIFFE id in the certificate (Istio's istiod certs carry it). */
  trustDomain: string;
  namespace: string;
  ttlMs?: number;
  now?: number;
}

/**
 * Issue istiod's serving certificate from the mesh CA (istiod's "DNS cert" signed by its own CA):
 * P-256 key, DNS SANs for the names ztunnels dial, serverAuth usage, chain leaf + intermediates.
 */
export async function issueServingCert(o: ServingCertOptions): Promise<ServingCertificate> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const signingKey = await importCaKey(o.ca.caKeyPem);
  const caCert = new x509.X509Certificate(o.ca.caCertPem);
  const now = o.now ?? Date.now();
  const notAfterMs = now + (o.ttlMs ?? DEFAULT_SERVING_CERT_TTL_MS);
  const spiffe = `spiffe://${makeIdentity(o.trustDomain, o.namespace, 'istiod').trustDomain}/ns/${o.namespace}/sa/istiod`;
  const leaf = await x509.X509CertificateGenerator.create({
    issuer: caCert.subjectName,
    subject: `CN=${o.dnsNames[0] ?? 'istiod'}`,
    notBefore: new Date(now - CLOCK_SKEW_MS),
    notAfter: new Date(notAfterMs),
    publicKey: keys.publicKey as CreateParams['publicKey'],
    signingKey: signingKey.key,
    signingAlgorithm: signingKey.algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([...o.dnsNames.map((value) => ({ type: 'dns' as const, value })), { type: 'url', value: spiffe }]),
      await x509.AuthorityKeyIdentifierExtension.create(caCert, false),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const keyPem = x509.PemConverter.encode(pkcs8, 'PRIVATE KEY');
  return { certChainPem: [leaf.toString('pem'), ...o.ca.intermediatesPem].join('\n') + '\n', keyPem, notAfterMs };
}

async function importCaKey(pem: string): Promise<SigningKey> {
  const ko = createPrivateKey(pem);
  const der = ko.export({ type: 'pkcs8', format: 'der' });
  if (ko.asymmetricKeyType === 'ec') {
    const curve = ko.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'P-384' : 'P-256';
    const key = await webcrypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: curve }, false, ['sign']);
    return { key: key as SigningKey['key'], algorithm: { name: 'ECDSA', hash: curve === 'P-384' ? 'SHA-384' : 'SHA-256' } as SigningKey['algorithm'] };
  }
  const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const key = await webcrypto.subtle.importKey('pkcs8', der, alg, false, ['sign']);
  return { key: key as SigningKey['key'], algorithm: alg };
}

/**
 * A grpc-js CertificateProvider holding istiod's serving certificate, re-issued at half-life so clients
 * never see an expired certificate; grpc-js swaps the secure context for new handshakes.
 */
export class RotatingServingCert implements CertificateProvider {
  private current: ServingCertificate | undefined;
  private readonly listeners = new Set<IdentityCertificateUpdateListener>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly issue: () => Promise<ServingCertificate>,
    private readonly logger?: Logger,
  ) {}

  async start(): Promise<ServingCertificate> {
    await this.rotate();
    return this.current as ServingCertificate;
  }

  get certificate(): ServingCertificate | undefined {
    return this.current;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  /**
   * Re-issue now, e.g. after the CA material rotated, so new handshakes present a certificate that chains to
   * the new root (Istio re-signs istiod's DNS cert when cacerts change). Rejects if issuing fails.
   */
  async rotateNow(): Promise<ServingCertificate> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    let next: ServingCertificate;
    try {
      next = await this.issue();
    } catch (err) {
      this.schedule(ROTATION_RETRY_MS); // keep serving the current certificate and try again later
      throw err;
    }
    this.install(next);
    return next;
  }

  addIdentityCertificateListener(listener: IdentityCertificateUpdateListener): void {
    this.listeners.add(listener);
    // Deliver on a later tick: grpc-js registers its own watcher only after adding this listener, so a
    // synchronous first update would be lost and the server would drop every TLS connection.
    setImmediate(() => {
      if (this.current !== undefined && this.listeners.has(listener)) listener(updateOf(this.current));
    });
  }

  removeIdentityCertificateListener(listener: IdentityCertificateUpdateListener): void {
    this.listeners.delete(listener);
  }

  // No client-certificate verification: callers authenticate with bearer tokens.
  addCaCertificateListener(_listener: CaCertificateUpdateListener): void {}
  removeCaCertificateListener(_listener: CaCertificateUpdateListener): void {}

  private async rotate(): Promise<void> {
    if (this.stopped) return;
    try {
      this.install(await this.issue());
    } catch (err) {
      if (this.current === undefined) throw err;
      this.logger?.error({ err }, 'serving certificate rotation failed; retrying in 60s');
      this.schedule(ROTATION_RETRY_MS);
    }
  }

  private install(next: ServingCertificate): void {
    this.current = next;
    for (const l of this.listeners) l(updateOf(next));
    this.logger?.info({ notAfter: new Date(next.notAfterMs).toISOString() }, 'istiod serving certificate issued');
    this.schedule(Math.max(1_000, (next.notAfterMs - Date.now()) / 2));
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    // setTimeout overflows past ~24.8 days; chain shorter waits for long TTLs.
    this.timer = setTimeout(() => void this.rotate(), Math.min(ms, 2 ** 31 - 1));
    this.timer.unref();
  }
}

function updateOf(c: ServingCertificate): { certificate: Buffer; privateKey: Buffer } {
  return { certificate: Buffer.from(c.certChainPem), privateKey: Buffer.from(c.keyPem) };
}
