import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from '@mesh/core';
import { CertificateAuthority, type CaLimits } from '@mesh/identity';
import { CaStateError } from './errors';

/** The self-signed root's persisted form (Istio: Secret istio-ca-secret keys ca-cert.pem / ca-key.pem). */
export interface SelfSignedCaPems {
  caCertPem: string;
  caKeyPem: string;
}

/** Where the self-signed root lives between restarts: a directory (local clusters) or a Secret (Kubernetes). */
export interface CaSecretStore {
  readonly description: string;
  load(): Promise<SelfSignedCaPems | undefined>;
  /**
   * Create-if-absent: persist `pems` unless a root is already stored, and resolve to what IS stored (ours, or
   * the root another istiod persisted first), so replicas starting together end with one root.
   */
  save(pems: SelfSignedCaPems): Promise<SelfSignedCaPems>;
}

export const CA_CERT_FILE = 'ca-cert.pem';
export const CA_KEY_FILE = 'ca-key.pem';
const ROOT_CERT_FILE = 'root-cert.pem';
const CERT_CHAIN_FILE = 'cert-chain.pem';
const PRIVATE_FILE_MODE = 0o600;
const PRIVATE_DIR_MODE = 0o700;
const PUBLIC_FILE_MODE = 0o644;

/** Write a file atomically (temp + rename) so a crash never leaves half a key behind. */
export function writeFileAtomic(path: string, data: string, mode: number): void {
  mkdirSync(dirname(path), { recursive: true, mode: PRIVATE_DIR_MODE });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data, { mode });
  renameSync(tmp, path);
}

/** Directory mode: ca-cert.pem + ca-key.pem (0600) under the CA state directory. */
export function directoryCaStore(dir: string): CaSecretStore {
  const certPath = join(dir, CA_CERT_FILE);
  const keyPath = join(dir, CA_KEY_FILE);
  return {
    description: dir,
    load: async () => {
      const hasCert = existsSync(certPath);
      const hasKey = existsSync(keyPath);
      if (!hasCert && !hasKey) return undefined;
      if (hasCert !== hasKey) {
        throw new CaStateError({ path: dir, reason: `only one of ${CA_CERT_FILE}/${CA_KEY_FILE} exists; restore the other or remove both to mint a new root` });
      }
      return { caCertPem: readFileSync(certPath, 'utf8'), caKeyPem: readFileSync(keyPath, 'utf8') };
    },
    save: async (p) => {
      if (existsSync(certPath) && existsSync(keyPath)) return { caCertPem: readFileSync(certPath, 'utf8'), caKeyPem: readFileSync(keyPath, 'utf8') };
      writeFileAtomic(keyPath, p.caKeyPem, PRIVATE_FILE_MODE);
      writeFileAtomic(certPath, p.caCertPem, PRIVATE_FILE_MODE);
      return p;
    },
  };
}

export interface SelfSignedCaOptions extends CaLimits {
  store: CaSecretStore;
  trustDomain: string;
  logger?: Logger;
}

/**
 * istiod without plug-in certs: reuse the persisted self-signed root, or mint one and persist it before
 * serving, so every restart keeps the root that ztunnels and workloads already trust.
 */
export async function loadOrCreateSelfSignedCa(options: SelfSignedCaOptions): Promise<CertificateAuthority> {
  const limits = limitsOf(options);
  const existing = await options.store.load();
  if (existing !== undefined) {
    const ca = caFromStored(existing, options.store.description, limits);
    options.logger?.info({ store: options.store.description }, 'reusing persisted self-signed CA root');
    return ca;
  }
  const ca = CertificateAuthority.selfSigned({ ...limits, organization: options.trustDomain });
  const stored = await options.store.save({ caCertPem: ca.caCertPem, caKeyPem: ca.caKeyPem });
  if (stored.caCertPem === ca.caCertPem) {
    options.logger?.info({ store: options.store.description }, 'created and persisted a new self-signed CA root');
    return ca;
  }
  // Another istiod persisted its root between our load and save: use that one, never fork the mesh's trust.
  options.logger?.info({ store: options.store.description }, 'another istiod created the self-signed CA root first; using it');
  return caFromStored(stored, options.store.description, limits);
}

/** A CertificateAuthority from a persisted self-signed root (it is its own root). */
export function caFromStored(pems: SelfSignedCaPems, where: string, limits: CaLimits = {}): CertificateAuthority {
  try {
    return CertificateAuthority.fromPem({ caCertPem: pems.caCertPem, caKeyPem: pems.caKeyPem, rootCertPem: pems.caCertPem }, limits);
  } catch (err) {
    throw new CaStateError({ path: where, reason: `persisted root is unreadable (${err instanceof Error ? err.message : String(err)})` }, { cause: err });
  }
}

/**
 * Plug-in CA from a `cacerts` directory (the Secret's keys mounted as files): ca-cert.pem, ca-key.pem,
 * root-cert.pem, cert-chain.pem (optional); or the kubernetes.io/tls form tls.crt / tls.key / ca.crt.
 */
export function loadPluginCa(dir: string, limits: CaLimits = {}): CertificateAuthority {
  const read = (name: string): string | undefined => {
    const p = join(dir, name);
    return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
  };
  const caCertPem = read(CA_CERT_FILE) ?? read('tls.crt');
  const caKeyPem = read(CA_KEY_FILE) ?? read('tls.key');
  const rootCertPem = read(ROOT_CERT_FILE) ?? read('ca.crt');
  if (caCertPem === undefined || caKeyPem === undefined || rootCertPem === undefined) {
    throw new CaStateError({ path: dir, reason: `missing ${CA_CERT_FILE}, ${CA_KEY_FILE} or ${ROOT_CERT_FILE} (or tls.crt/tls.key/ca.crt)` });
  }
  const certChainPem = read(CERT_CHAIN_FILE);
  return CertificateAuthority.fromPem({ caCertPem, caKeyPem, rootCertPem, ...(certChainPem === undefined ? {} : { certChainPem }) }, limits);
}

/** True when the directory looks like plug-in certs (Istio switches to plug-in mode when ca-key.pem exists). */
export function hasPluginCa(dir: string): boolean {
  return dir !== '' && (existsSync(join(dir, CA_KEY_FILE)) || existsSync(join(dir, 'tls.key')));
}

/** Publish the mesh root for node agents (the local cluster hands this file to ztunnels). */
export function publishRootCert(path: string, rootCertPem: string): void {
  writeFileAtomic(path, rootCertPem, PUBLIC_FILE_MODE);
}

function limitsOf(o: CaLimits): CaLimits {
  return { ...(o.defaultTtlMs === undefined ? {} : { defaultTtlMs: o.defaultTtlMs }), ...(o.maxTtlMs === undefined ? {} : { maxTtlMs: o.maxTtlMs }) };
}
