import { CertificateFetchTimeoutError, CertificateManagerClosedError } from '../errors';
import { buildCsr } from '../pki/csr';
import { generateWorkloadKey, privateKeyToPem } from '../pki/keys';
import { formatSpiffeId, type Identity } from '../spiffe/identity';
import { certificateFromResponse, type WorkloadCertificate } from './certificate';
import { systemClock, type Clock } from './clock';

/** What the CA client receives: a fresh P-256 key's CSR (and the key, should it need it). */
export interface CertificateRequest {
  identity: Identity;
  csrPem: string;
  keyPem: string;
}

/** Calls the CA (istiod CreateCertificate); resolves to cert_chain (leaf first, roots last). */
export type FetchCertificate = (request: CertificateRequest) => Promise<string[]>;

export interface CertificateManagerOptions {
  fetch: FetchCertificate;
  clock?: Clock;
  /** Refresh when this fraction of the lifetime has passed (ztunnel: half-life). */
  refreshFraction?: number;
  initialBackoffMs?: number;
  /** ztunnel caps its CA retry backoff at 150s. */
  maxBackoffMs?: number;
  /** Used by get() when no timeout is given. */
  defaultTimeoutMs?: number;
  /** For jitter; tests make it deterministic. */
  random?: () => number;
}

export interface RotationEvent {
  identity: Identity;
  certificate: WorkloadCertificate;
  previous: WorkloadCertificate | undefined;
}

export interface FetchFailedEvent {
  identity: Identity;
  error: unknown;
  attempt: number;
  retryInMs: number;
}

export const DEFAULT_REFRESH_FRACTION = 0.5;
export const DEFAULT_INITIAL_BACKOFF_MS = 500;
export const DEFAULT_MAX_BACKOFF_MS = 150_000;
export const DEFAULT_GET_TIMEOUT_MS = 10_000;

interface Waiter {
  resolve: (cert: WorkloadCertificate) => void;
  reject: (err: unknown) => void;
  timer: unknown;
}

interface Entry {
  identity: Identity;
  cert: WorkloadCertificate | undefined;
  fetching: boolean;
  timer: unknown;
  attempt: number;
  lastError: unknown;
  waiters: Set<Waiter>;
}

/**
 * Per-identity workload certificates for ztunnel (Z:src/identity/manager.rs): fetched on demand,
 * refreshed at half-life, retried with capped exponential backoff and jitter, concurrent requests
 * for one identity coalesced into one CA call.
 */
export class CertificateManager {
  private readonly entries = new Map<string, Entry>();
  private readonly rotatedListeners = new Set<(e: RotationEvent) => void>();
  private readonly failedListeners = new Set<(e: FetchFailedEvent) => void>();
  private readonly clock: Clock;
  private readonly fetchFn: FetchCertificate;
  private readonly refreshFraction: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly defaultTimeoutMs: number;
  private readonly random: () => number;

  constructor(options: CertificateManagerOptions) {
    this.fetchFn = options.fetch;
    this.clock = options.clock ?? systemClock;
    this.refreshFraction = options.refreshFraction ?? DEFAULT_REFRESH_FRACTION;
    this.initialBackoffMs = options.initialBackoffMs ?? DEFAULT_INITIAL_BACKOFF_MS;
    this.maxBackoffMs = options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
    this.defaultTimeoutMs = options.defaultTimeoutMs ?? DEFAULT_GET_TIMEOUT_MS;
    this.random = options.random ?? Math.random;
  }

  /** The identity's current certificate; waits for a fetch if there is no unexpired one, at most `timeoutMs`. */
  get(identity: Identity, options: { timeoutMs?: number } = {}): Promise<WorkloadCertificate> {
    const entry = this.entryFor(identity);
    if (entry.cert !== undefined && this.clock.now() < entry.cert.notAfterMs) return Promise.resolve(entry.cert);
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    const promise = new Promise<WorkloadCertificate>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, timer: undefined };
      waiter.timer = this.clock.setTimeout(() => {
        entry.waiters.delete(waiter);
        reject(new CertificateFetchTimeoutError({ identity: formatSpiffeId(identity), timeoutMs }, { cause: entry.lastError }));
      }, timeoutMs);
      entry.waiters.add(waiter);
    });
    // During a backoff wait we do not call the CA early: the backoff protects istiod.
    if (!entry.fetching && entry.timer === undefined) this.startFetch(entry);
    return promise;
  }

  /** Start fetching without waiting (ztunnel pre-fetches certs for every local workload). */
  prefetch(identity: Identity): void {
    const entry = this.entryFor(identity);
    if (entry.cert === undefined && !entry.fetching && entry.timer === undefined) this.startFetch(entry);
  }

  /** The cached certificate, if any, without fetching. */
  peek(identity: Identity): WorkloadCertificate | undefined {
    return this.entries.get(formatSpiffeId(identity))?.cert;
  }

  /** Drop an identity (its last workload left the node): timers stop, waiters are rejected. */
  forget(identity: Identity): void {
    const key = formatSpiffeId(identity);
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    if (entry.timer !== undefined) this.clock.clearTimeout(entry.timer);
    this.rejectWaiters(entry, new CertificateManagerClosedError({ identity: key }));
  }

  close(): void {
    for (const entry of [...this.entries.values()]) this.forget(entry.identity);
  }

  onRotated(listener: (e: RotationEvent) => void): () => void {
    this.rotatedListeners.add(listener);
    return () => this.rotatedListeners.delete(listener);
  }

  onFetchFailed(listener: (e: FetchFailedEvent) => void): () => void {
    this.failedListeners.add(listener);
    return () => this.failedListeners.delete(listener);
  }

  private entryFor(identity: Identity): Entry {
    const key = formatSpiffeId(identity);
    let entry = this.entries.get(key);
    if (entry === undefined) {
      entry = { identity, cert: undefined, fetching: false, timer: undefined, attempt: 0, lastError: undefined, waiters: new Set() };
      this.entries.set(key, entry);
    }
    return entry;
  }

  private startFetch(entry: Entry): void {
    entry.fetching = true;
    entry.timer = undefined;
    void this.fetchOnce(entry).then(
      (cert) => this.onFetched(entry, cert),
      (err: unknown) => this.onFailed(entry, err),
    );
  }

  private async fetchOnce(entry: Entry): Promise<WorkloadCertificate> {
    const { privateKey, publicKey } = generateWorkloadKey();
    const keyPem = privateKeyToPem(privateKey);
    const chain = await this.fetchFn({ identity: entry.identity, csrPem: buildCsr(entry.identity, privateKey, publicKey), keyPem });
    return certificateFromResponse(entry.identity, chain, privateKey, keyPem);
  }

  private isLive(entry: Entry): boolean {
    return this.entries.get(formatSpiffeId(entry.identity)) === entry;
  }

  private onFetched(entry: Entry, cert: WorkloadCertificate): void {
    entry.fetching = false;
    if (!this.isLive(entry)) return;
    const previous = entry.cert;
    entry.cert = cert;
    entry.attempt = 0;
    entry.lastError = undefined;
    const lifetimeMs = cert.notAfterMs - cert.notBeforeMs;
    const refreshAt = cert.notBeforeMs + lifetimeMs * this.refreshFraction;
    entry.timer = this.clock.setTimeout(() => this.startFetch(entry), Math.max(0, refreshAt - this.clock.now()));
    for (const w of entry.waiters) {
      this.clock.clearTimeout(w.timer);
      w.resolve(cert);
    }
    entry.waiters.clear();
    for (const l of this.rotatedListeners) l({ identity: entry.identity, certificate: cert, previous });
  }

  private onFailed(entry: Entry, error: unknown): void {
    entry.fetching = false;
    if (!this.isLive(entry)) return;
    entry.attempt++;
    entry.lastError = error;
    const retryInMs = this.backoffMs(entry.attempt);
    entry.timer = this.clock.setTimeout(() => this.startFetch(entry), retryInMs);
    for (const l of this.failedListeners) l({ identity: entry.identity, error, attempt: entry.attempt, retryInMs });
  }

  /** Exponential, capped, with "equal jitter": a random point in the upper half of the window. */
  private backoffMs(attempt: number): number {
    const ceiling = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** Math.min(attempt - 1, 30));
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  private rejectWaiters(entry: Entry, err: unknown): void {
    for (const w of entry.waiters) {
      this.clock.clearTimeout(w.timer);
      w.reject(err);
    }
    entry.waiters.clear();
  }
}
