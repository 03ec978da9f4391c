import type { Logger } from '@mesh/core';
import type { CaLimits, CertificateAuthority } from '@mesh/identity';
import { caFromStored, hasPluginCa, loadOrCreateSelfSignedCa, loadPluginCa, type CaSecretStore } from './ca-store';

/** Reads the CA material again; undefined = nothing usable there right now (keep the current CA). */
export type CaReader = () => Promise<CertificateAuthority | undefined>;

/** What changed on a reload; `rootChanged` means clients must be handed a new trust bundle. */
export interface CaChange {
  previous: CertificateAuthority;
  current: CertificateAuthority;
  rootChanged: boolean;
}

export type CaChangeListener = (change: CaChange) => void | Promise<void>;

export interface CaReloaderOptions {
  initial: CertificateAuthority;
  read: CaReader;
  /** How often `read` runs (Istio watches cacerts and re-checks istio-ca-secret periodically). 0 = never. */
  intervalMs: number;
  logger?: Logger;
}

/**
 * Holds istiod's current signer and swaps it when the plugged-in `cacerts` files or the persisted
 * self-signed root change (Istio: pluggedin cert rotation, and the self-signed root rotator reloading
 * istio-ca-secret). A reload that fails or finds nothing keeps the current CA: a half-written cacerts
 * update must never take the CA down. Listeners run in order after the swap: the serving certificate is
 * re-issued and, when the root changed, the published root (file / istio-ca-root-cert ConfigMaps) follows.
 * Connections already open keep working; new handshakes need the new root. For a root change without an
 * outage, root-cert.pem should list the old and the new root during the transition (Istio's plug-in CA
 * rotation procedure): istiod publishes whatever root-cert.pem holds.
 */
export class CaReloader {
  private ca: CertificateAuthority;
  private readonly listeners: CaChangeListener[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<boolean> | undefined;

  constructor(private readonly options: CaReloaderOptions) {
    this.ca = options.initial;
  }

  current(): CertificateAuthority {
    return this.ca;
  }

  onChange(listener: CaChangeListener): void {
    this.listeners.push(listener);
  }

  start(): void {
    if (this.timer !== undefined || this.options.intervalMs <= 0) return;
    this.timer = setInterval(() => void this.check(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Re-read now; resolves true when the CA was swapped. Concurrent calls share one check. */
  check(): Promise<boolean> {
    this.running ??= this.reload().finally(() => (this.running = undefined));
    return this.running;
  }

  private async reload(): Promise<boolean> {
    let next: CertificateAuthority | undefined;
    try {
      next = await this.options.read();
    } catch (err) {
      this.options.logger?.warn({ err }, 'CA material could not be reloaded; keeping the current CA');
      return false;
    }
    if (next === undefined || next.sameMaterialAs(this.ca)) return false;
    const change: CaChange = { previous: this.ca, current: next, rootChanged: next.rootCertPem !== this.ca.rootCertPem };
    this.ca = next;
    this.options.logger?.info({ rootChanged: change.rootChanged }, 'CA material changed; now signing with the new CA');
    for (const l of this.listeners) {
      try {
        await l(change);
      } catch (err) {
        this.options.logger?.error({ err }, 'a CA change listener failed');
      }
    }
    return true;
  }
}

/** Plug-in mode: the `cacerts` directory, read only while it still holds a key (else keep the current CA). */
export function pluginCaReader(dir: string, limits: CaLimits = {}): CaReader {
  return async () => (hasPluginCa(dir) ? loadPluginCa(dir, limits) : undefined);
}

/** Self-signed mode: the persisted root (directory or istio-ca-secret), e.g. replaced by an operator or another replica. */
export function storedCaReader(store: CaSecretStore, limits: CaLimits = {}): CaReader {
  return async () => {
    const pems = await store.load();
    return pems === undefined ? undefined : caFromStored(pems, store.description, limits);
  };
}

export interface OpenCaOptions extends CaLimits {
  /** CACERTS_DIR: plug-in mode when it holds ca-key.pem (or tls.key). */
  pluginDir: string;
  /** Where the self-signed root persists (directory or istio-ca-secret), built only in self-signed mode. */
  store: () => CaSecretStore;
  trustDomain: string;
  reloadIntervalMs: number;
  logger?: Logger;
}

/**
 * istiod's CA at start (plug-in `cacerts` if present, else the persisted or newly created self-signed root),
 * wrapped in a reloader that follows later changes of the same source.
 */
export async function openCa(o: OpenCaOptions): Promise<CaReloader> {
  const limits: CaLimits = { ...(o.maxTtlMs === undefined ? {} : { maxTtlMs: o.maxTtlMs }), ...(o.defaultTtlMs === undefined ? {} : { defaultTtlMs: o.defaultTtlMs }) };
  const logger = o.logger;
  if (hasPluginCa(o.pluginDir)) {
    logger?.info({ dir: o.pluginDir }, 'using plug-in CA certificates');
    return new CaReloader({ initial: loadPluginCa(o.pluginDir, limits), read: pluginCaReader(o.pluginDir, limits), intervalMs: o.reloadIntervalMs, ...(logger ? { logger } : {}) });
  }
  const store = o.store();
  const initial = await loadOrCreateSelfSignedCa({ store, trustDomain: o.trustDomain, ...limits, ...(logger ? { logger } : {}) });
  return new CaReloader({ initial, read: storedCaReader(store, limits), intervalMs: o.reloadIntervalMs, ...(logger ? { logger } : {}) });
}
