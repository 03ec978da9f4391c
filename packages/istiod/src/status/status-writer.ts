import { isDeepStrictEqual } from 'node:util';
import { createLogger, type Logger } from '@mesh/core';
import type { ConfigStore } from '../config';
import { KeyedQueue, type KubeRest } from '../leader';
import type { StatusCondition } from '../model';
import { desiredStatus, OWNED_CONDITION_TYPES, type OwnedCondition } from './desired';

export const STATUS_DEBOUNCE_MS = 100;
export const STATUS_RESYNC_INTERVAL_MS = 30_000;
/** At most ~10 status writes a second, whatever the churn (Istio's status queue is rate limited too). */
export const STATUS_MIN_WRITE_INTERVAL_MS = 100;

export interface StatusWriterOptions {
  rest: KubeRest;
  store: ConfigStore;
  /** The index's conditions (AmbientIndex.conditions). */
  conditions: () => readonly StatusCondition[];
  debounceMs?: number;
  resyncIntervalMs?: number;
  minWriteIntervalMs?: number;
  logger?: Logger;
}

interface WrittenCondition extends OwnedCondition {
  lastTransitionTime?: string;
  observedGeneration?: number;
}

/**
 * Writes istiod's conditions into `status.conditions` through the status subresource: invalid Istio
 * objects, ztunnel policy conversion, waypoint bindings and waypoint Gateways. Leader only (`start`/`stop`
 * follow the lease). Each object is read before writing: conditions of other owners are kept, unchanged
 * ones keep their lastTransitionTime, and nothing is written when the server already agrees, so a status
 * watch event cannot loop. API errors are retried with backoff, never thrown.
 */
export class StatusWriter {
  private readonly log: Logger;
  private queue: KeyedQueue | undefined;
  private unsubscribe: (() => void) | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private resync: NodeJS.Timeout | undefined;
  private desired = new Map<string, OwnedCondition[]>();
  /** Paths we wrote conditions to: when their desired set empties, our conditions are removed. */
  private readonly owned = new Set<string>();

  constructor(private readonly o: StatusWriterOptions) {
    this.log = o.logger ?? createLogger({ component: 'istiod-status' });
  }

  start(): void {
    if (this.queue) return;
    this.queue = new KeyedQueue({ handle: (p, run) => this.write(p, run), minIntervalMs: this.o.minWriteIntervalMs ?? STATUS_MIN_WRITE_INTERVAL_MS, logger: this.log });
    this.desired = new Map();
    this.unsubscribe = this.o.store.subscribe(() => this.trigger());
    this.resync = setInterval(() => this.recompute(true), this.o.resyncIntervalMs ?? STATUS_RESYNC_INTERVAL_MS);
    this.resync.unref();
    this.recompute(true);
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.debounce) clearTimeout(this.debounce);
    if (this.resync) clearInterval(this.resync);
    this.debounce = undefined;
    this.queue?.stop();
    this.queue = undefined;
  }

  /** Something changed (config event, invalid report): recompute soon. */
  trigger(): void {
    if (this.queue === undefined || this.debounce !== undefined) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      this.recompute(false);
    }, this.o.debounceMs ?? STATUS_DEBOUNCE_MS);
    this.debounce.unref();
  }

  idle(): Promise<void> {
    return this.queue?.idle() ?? Promise.resolve();
  }

  private recompute(all: boolean): void {
    const queue = this.queue;
    if (queue === undefined) return;
    let next: Map<string, OwnedCondition[]>;
    try {
      next = desiredStatus(this.o.store, this.o.conditions());
    } catch (err) {
      this.log.error({ err }, 'computing status failed');
      return;
    }
    for (const [path, conds] of next) if (all || !isDeepStrictEqual(this.desired.get(path), conds)) queue.add(path);
    for (const path of this.desired.keys()) if (!next.has(path)) queue.add(path);
    for (const path of this.owned) if (all && !next.has(path)) queue.add(path);
    this.desired = next;
  }

  private async write(path: string, run: { readonly stopped: boolean }): Promise<void> {
    const { rest } = this.o;
    const got = await rest.call('GET', path);
    // Leadership may have ended while the GET was out: a former leader writes no status.
    if (run.stopped) return;
    if (got.status === 404) {
      this.owned.delete(path);
      return;
    }
    if (got.status !== 200) await rest.ok('GET', path);
    const generation = (got.body['metadata'] as { generation?: number } | undefined)?.generation;
    const current = ((got.body['status'] as { conditions?: WrittenCondition[] } | undefined)?.conditions ?? []);
    const wanted = this.desired.get(path) ?? [];
    const next = mergeConditions(current, wanted, generation, new Date().toISOString().replace(/\.\d+Z$/, 'Z'));
    if (isDeepStrictEqual(next, current)) return;
    const reply = await rest.mergePatch(`${path}/status`, { status: { conditions: next.length === 0 ? null : next } });
    if (reply.status === 404) return;
    if (reply.status < 200 || reply.status > 299) await rest.ok('PATCH', `${path}/status`, { status: { conditions: next } }, 'application/merge-patch+json');
    if (wanted.length === 0) this.owned.delete(path);
    else this.owned.add(path);
    this.log.debug({ path, conditions: wanted.map((c) => `${c.type}=${c.status}`) }, 'status written');
  }
}

/** Ours replaced, others kept; an unchanged status keeps its lastTransitionTime (metav1.Condition rules). */
export function mergeConditions(current: readonly WrittenCondition[], wanted: readonly OwnedCondition[], generation: number | undefined, nowRfc3339: string): WrittenCondition[] {
  const others = current.filter((c) => !OWNED_CONDITION_TYPES.has(c.type));
  const ours = wanted.map((w): WrittenCondition => {
    const prev = current.find((c) => c.type === w.type);
    const lastTransitionTime = prev !== undefined && prev.status === w.status && prev.lastTransitionTime !== undefined ? prev.lastTransitionTime : nowRfc3339;
    return { type: w.type, status: w.status, reason: w.reason, message: w.message, lastTransitionTime, ...(generation === undefined ? {} : { observedGeneration: generation }) };
  });
  return [...others, ...ours];
}
