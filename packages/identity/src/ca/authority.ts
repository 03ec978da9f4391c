import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { pemBlocks, splitPemCertificates } from '../der/decode';
import { toPem } from '../der/encode';
import { CaConfigError, CaTtlError, CsrInvalidError } from '../errors';
import { signatureAlgorithmFor, type SignatureAlgorithm } from '../pki/algorithms';
import { parseCertificateDer, spkiPublicKeyBits } from '../pki/certificate-der';
import { parseCsr, sanExtension } from '../pki/csr';
import { generateRsaKey, generateWorkloadKey, privateKeyToPem, publicKeyToSpkiDer } from '../pki/keys';
import { formatSpiffeId, type Identity } from '../spiffe/identity';
import {
  EMPTY_NAME,
  caExtensions,
  keyIdentifier,
  organizationName,
  randomSerial,
  signCertificate,
  validity,
  workloadStaticExtensions,
} from './certificate-builder';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** istiod DEFAULT_WORKLOAD_CERT_TTL: used when the request asks for no TTL (≤0). */
export const DEFAULT_WORKLOAD_CERT_TTL_MS = 24 * HOUR_MS;
/** istiod MAX_WORKLOAD_CERT_TTL: longer requests are refused. */
export const MAX_WORKLOAD_CERT_TTL_MS = 90 * DAY_MS;
/** istiod CITADEL_SELF_SIGNED_CA_CERT_TTL. */
export const SELF_SIGNED_ROOT_TTL_MS = 10 * 365 * DAY_MS;

export interface CaLimits {
  defaultTtlMs?: number;
  maxTtlMs?: number;
}

/** PEM material of an istiod plug-in CA (the `cacerts` Secret's keys). */
export interface PluginCaPems {
  caCertPem: string;
  caKeyPem: string;
  rootCertPem: string;
  /** Intermediates between ca-cert and the root (may include ca-cert itself and the root; both are handled). */
  certChainPem?: string;
}

export interface SelfSignedCaOptions extends CaLimits {
  /** Root subject O=; istiod uses the trust domain ("cluster.local"). */
  organization?: string;
  /** Default ECDSA P-256 (fast). istiod itself uses RSA 2048 for its self-signed root; 'rsa-2048' mirrors that. */
  keyAlgorithm?: 'ec-p256' | 'rsa-2048';
  ttlMs?: number;
  now?: number;
}

export interface IssueRequest {
  /** The SAN to certify. Under impersonation istiod ignores the CSR's own SANs, and so do we. */
  identity: Identity;
  /** PEM CSR (its signature is checked); or give `spki` or `publicKey` instead. */
  csrPem?: string;
  /** DER SubjectPublicKeyInfo already checked by the caller (e.g. `parseCsr(pem).spki`): copied as is. */
  spki?: Buffer;
  publicKey?: KeyObject;
  /** ≤0 or absent → the default TTL. */
  ttlMs?: number;
  now?: number;
}

export interface IssuedCertificate {
  /** Leaf first, then intermediates, root(s) last: the IstioCertificateResponse.cert_chain layout. */
  certChainPem: string[];
  notBeforeMs: number;
  notAfterMs: number;
}

/**
 * The istiod CA signer. Workload certificates are written with a hand-made DER template: the issuer name,
 * AKI and the static extensions are encoded once; per certificate only serial, validity, key and SAN vary.
 */
export class CertificateAuthority {
  readonly caCertPem: string;
  readonly caKeyPem: string;
  /** All trust anchors, concatenated; the last element of every issued chain. */
  readonly rootCertPem: string;
  /** What sits between an issued leaf and the roots: ca-cert first (unless it is a root), then its issuers. */
  readonly intermediatesPem: readonly string[];
  private readonly key: KeyObject;
  private readonly algorithm: SignatureAlgorithm;
  private readonly issuerName: Buffer;
  private readonly staticExtensions: Buffer;
  private readonly chainTail: string[];
  private readonly defaultTtlMs: number;
  private readonly maxTtlMs: number;

  private constructor(pems: { caCertPem: string; rootCertPem: string; chain: string[] }, key: KeyObject, limits: CaLimits) {
    this.caCertPem = pems.caCertPem;
    this.rootCertPem = pems.rootCertPem;
    this.key = key;
    this.caKeyPem = privateKeyToPem(key);
    this.algorithm = signatureAlgorithmFor(key);
    const fields = parseCertificateDer(derOf(pems.caCertPem, 'ca-cert.pem'));
    this.issuerName = fields.subjectDer;
    this.staticExtensions = workloadStaticExtensions(fields.subjectKeyId ?? keyIdentifier(fields.publicKeyBits));
    this.intermediatesPem = Object.freeze([...pems.chain]);
    this.chainTail = [...pems.chain, pems.rootCertPem];
    this.defaultTtlMs = limits.defaultTtlMs ?? DEFAULT_WORKLOAD_CERT_TTL_MS;
    this.maxTtlMs = limits.maxTtlMs ?? MAX_WORKLOAD_CERT_TTL_MS;
  }

  /** A new self-signed root that also signs workload certificates (istiod without `cacerts`). */
  static selfSigned(options: SelfSignedCaOptions = {}): CertificateAuthority {
    const keys = options.keyAlgorithm === 'rsa-2048' ? generateRsaKey(2048) : generateWorkloadKey();
    const now = options.now ?? Date.now();
    const der = createCaCertificateDer({
      organization: options.organization ?? 'cluster.local',
      publicKey: keys.publicKey,
      notBeforeMs: now,
      notAfterMs: now + (options.ttlMs ?? SELF_SIGNED_ROOT_TTL_MS),
      signer: { key: keys.privateKey },
    });
    const pem = toPem('CERTIFICATE', der);
    return new CertificateAuthority({ caCertPem: pem, rootCertPem: pem, chain: [] }, keys.privateKey, options);
  }

  /** Load a plug-in CA; checks the key matches, ca-cert is a CA, and the chain reaches one of the roots. */
  static fromPem(pems: PluginCaPems, limits: CaLimits = {}): CertificateAuthority {
    const key = importKey(pems.caKeyPem);
    const caCert = parseX509(pems.caCertPem, 'ca-cert.pem');
    if (!caCert.ca) throw new CaConfigError({ reason: 'ca-cert.pem is not a CA certificate (basicConstraints CA:false)' });
    if (!caCert.checkPrivateKey(key)) throw new CaConfigError({ reason: 'ca-key.pem does not match ca-cert.pem' });
    const roots = splitPemCertificates(pems.rootCertPem).map((p) => parseX509(p, 'root-cert.pem'));
    if (roots.length === 0) throw new CaConfigError({ reason: 'root-cert.pem holds no certificate' });
    const isRoot = (c: X509Certificate): boolean => roots.some((r) => r.raw.equals(c.raw));
    const listed = splitPemCertificates(pems.certChainPem ?? '').map((p) => parseX509(p, 'cert-chain.pem'));
    // The response lists intermediates after the leaf: ca-cert first (unless it is itself a root), then the rest.
    const chain = [caCert, ...listed.filter((c) => !c.raw.equals(caCert.raw))].filter((c) => !isRoot(c));
    verifyChain(caCert, chain, roots);
    const rootCertPem = roots.map((r) => r.toString()).join('');
    return new CertificateAuthority({ caCertPem: caCert.toString(), rootCertPem, chain: chain.map((c) => c.toString()) }, key, limits);
  }

  /** True when `other` signs with the same certificate and hands out the same chain and roots. */
  sameMaterialAs(other: CertificateAuthority): boolean {
    return (
      other.caCertPem === this.caCertPem &&
      other.rootCertPem === this.rootCertPem &&
      other.intermediatesPem.length === this.intermediatesPem.length &&
      other.intermediatesPem.every((p, i) => p === this.intermediatesPem[i])
    );
  }

  issueWorkloadCert(req: IssueRequest): IssuedCertificate {
    const spki = requestedSpki(req);
    const ttlMs = req.ttlMs === undefined || req.ttlMs <= 0 ? this.defaultTtlMs : req.ttlMs;
    if (ttlMs > this.maxTtlMs) throw new CaTtlError({ requestedMs: ttlMs, maxMs: this.maxTtlMs });
    // Whole seconds: X.509 times have no fractions, and the notAfter must not drift past now + ttl.
    const notBeforeMs = Math.floor((req.now ?? Date.now()) / 1000) * 1000;
    const notAfterMs = notBeforeMs + Math.floor(ttlMs / 1000) * 1000;
    const der = signCertificate(
      {
        serial: randomSerial(),
        algorithm: this.algorithm,
        issuer: this.issuerName,
        validity: validity(notBeforeMs, notAfterMs),
        subject: EMPTY_NAME,
        spki,
        extensions: Buffer.concat([this.staticExtensions, sanExtension([formatSpiffeId(req.identity)], true)]),
      },
      this.key,
    );
    return { certChainPem: [toPem('CERTIFICATE', der), ...this.chainTail], notBeforeMs, notAfterMs };
  }
}

function requestedSpki(req: IssueRequest): Buffer {
  if (req.csrPem !== undefined) return parseCsr(req.csrPem).spki;
  if (req.spki !== undefined) return req.spki;
  if (req.publicKey !== undefined) return publicKeyToSpkiDer(req.publicKey);
  throw new CsrInvalidError({ reason: 'neither a CSR nor a public key was given' });
}

export interface CaCertificateSpec {
  organization: string;
  publicKey: KeyObject;
  notBeforeMs: number;
  notAfterMs: number;
  /** Omit `certPem` for a self-signed certificate. */
  signer: { key: KeyObject; certPem?: string };
}

/** A CA certificate (root or intermediate) as DER; used for the self-signed root and to build test PKIs. */
export function createCaCertificateDer(spec: CaCertificateSpec): Buffer {
  const subject = organizationName(spec.organization);
  const spkiDer = publicKeyToSpkiDer(spec.publicKey);
  const ski = keyIdentifier(spkiPublicKeyBits(spkiDer));
  let issuer = subject;
  let aki: Buffer | undefined;
  if (spec.signer.certPem !== undefined) {
    const parent = parseCertificateDer(derOf(spec.signer.certPem, 'issuer certificate'));
    issuer = parent.subjectDer;
    aki = parent.subjectKeyId ?? keyIdentifier(parent.publicKeyBits);
  }
  return signCertificate(
    {
      serial: randomSerial(),
      algorithm: signatureAlgorithmFor(spec.signer.key),
      issuer,
      validity: validity(spec.notBeforeMs, spec.notAfterMs),
      subject,
      spki: spkiDer,
      extensions: caExtensions(ski, aki),
    },
    spec.signer.key,
  );
}

function verifyChain(caCert: X509Certificate, chain: X509Certificate[], roots: X509Certificate[]): void {
  let current = caCert;
  const pool = [...chain.filter((c) => c !== caCert), ...roots];
  for (let depth = 0; depth <= pool.length; depth++) {
    if (roots.some((r) => r.raw.equals(current.raw))) return;
    const parent = pool.find((p) => current.checkIssued(p) && current.verify(p.publicKey));
    if (parent === undefined) break;
    current = parent;
  }
  throw new CaConfigError({ reason: 'ca-cert.pem does not chain to root-cert.pem through cert-chain.pem' });
}

function importKey(pem: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw new CaConfigError({ reason: 'ca-key.pem is not a readable private key' }, { cause: err });
  }
}

function parseX509(pem: string, what: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw new CaConfigError({ reason: `${what} is not a readable certificate` }, { cause: err });
  }
}

function derOf(pem: string, what: string): Buffer {
  const der = pemBlocks(pem, 'CERTIFICATE')[0];
  if (der === undefined) throw new CaConfigError({ reason: `${what} holds no CERTIFICATE block` });
  return der;
}
