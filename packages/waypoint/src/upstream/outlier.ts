// DestinationRule outlierDetection as Envoy's outlier detector applies it: consecutive 5xx (and, when set,
// consecutive gateway errors) eject an endpoint at once for base_ejection_time x its ejection count (capped at
// Envoy's max_ejection_time default of 300 s); an endpoint that stays healthy for an interval gets its
// multiplier decremented; no ejection when the ejected share would reach max_ejection_percent. Locally
// originated failures (connect failure, reset, timeout) count as 5xx/gateway errors, as Envoy does without
// split_external_local_origin_errors.
import type { waypoint } from '@mesh/api';

export const MAX_EJECTION_TIME_MS = 300_000;

export type UpstreamOutcome = 'success' | 'error-5xx' | 'gateway-error';

interface HostState {
  consecutive5xx: number;
  consecutiveGateway: number;
  ejectedUntilMs: number;
  ejections: number;
  lastDecayMs: number;
}

export function outcomeOfStatus(status: number): UpstreamOutcome {
  if (status === 502 || status === 503 || status === 504) return 'gateway-error';
  return status >= 500 ? 'error-5xx' : 'success';
}

export class OutlierDetector {
  private readonly hosts = new Map<string, HostState>();

  constructor(private readonly cfg: waypoint.OutlierDetection, private readonly now: () => number = Date.now) {}

  isEjected(key: string): boolean {
    const h = this.hosts.get(key);
    return h !== undefined && h.ejectedUntilMs > this.now();
  }

  /** Endpoint keys ejected right now (for the admin dump). */
  ejectedKeys(): string[] {
    return [...this.hosts.keys()].filter((k) => this.isEjected(k));
  }

  /** Endpoints the LB may use: the non-ejected ones, or all of them below min_health_percent (panic). */
  filter<T>(eps: readonly T[], keyOf: (e: T) => string): readonly T[] {
    const healthy = eps.filter((e) => !this.isEjected(keyOf(e)));
    const minHealth = this.cfg.minHealthPercent;
    if (minHealth > 0 && eps.length > 0 && (100 * healthy.length) / eps.length < minHealth) return eps;
    return healthy;
  }

  /** Records one try's outcome; `keys` is the cluster's current endpoint set (for max_ejection_percent). */
  report(key: string, outcome: UpstreamOutcome, keys: readonly string[]): void {
    const h = this.state(key);
    this.decay(h);
    if (outcome === 'success') {
      h.consecutive5xx = 0;
      h.consecutiveGateway = 0;
      return;
    }
    h.consecutive5xx++;
    if (outcome === 'gateway-error') h.consecutiveGateway++;
    const by5xx = this.cfg.consecutive5xx > 0 && h.consecutive5xx >= this.cfg.consecutive5xx;
    const byGateway = this.cfg.consecutiveGatewayErrors > 0 && h.consecutiveGateway >= this.cfg.consecutiveGatewayErrors;
    if ((by5xx || byGateway) && !this.isEjected(key) && this.mayEject(keys)) this.eject(h);
  }

  private mayEject(keys: readonly string[]): boolean {
    if (keys.length === 0) return false;
    const ejected = keys.filter((k) => this.isEjected(k)).length;
    return (100 * ejected) / keys.length < this.cfg.maxEjectionPercent;
  }

  private eject(h: HostState): void {
    const now = this.now();
    h.ejections++;
    const base = this.cfg.baseEjectionTimeMs;
    h.ejectedUntilMs = now + Math.min(base * h.ejections, Math.max(base, MAX_EJECTION_TIME_MS));
    h.lastDecayMs = h.ejectedUntilMs;
    h.consecutive5xx = 0;
    h.consecutiveGateway = 0;
  }

  /** One multiplier step back per healthy interval after the ejection ended. */
  private decay(h: HostState): void {
    const now = this.now();
    const interval = this.cfg.intervalMs;
    if (h.ejections === 0 || interval <= 0 || now < h.ejectedUntilMs) return;
    const steps = Math.floor((now - h.lastDecayMs) / interval);
    if (steps <= 0) return;
    h.ejections = Math.max(0, h.ejections - steps);
    h.lastDecayMs += steps * interval;
  }

  private state(key: string): HostState {
    let h = this.hosts.get(key);
    if (h === undefined) {
      h = { consecutive5xx: 0, consecutiveGateway: 0, ejectedUntilMs: 0, ejections: 0, lastDecayMs: 0 };
      this.hosts.set(key, h);
    }
    return h;
  }
}
