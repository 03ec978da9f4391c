import { create, tryParseDuration, waypoint, type HeaderOperations } from '@mesh/api';
import type { DestinationRuleIndex } from './destination-rule';
import type { CompileContext } from './context';
import type { RouteInit } from './types';

/**
 * Istio's default HTTP retry policy, applied when a route sets none
 * (pilot/pkg/networking/core/route/retry: 2 attempts on connect-failure, refused-stream,
 * unavailable, cancelled and retriable 503).
 */
export function istioDefaultRetry(): NonNullable<RouteInit['retries']> {
  return {
    attempts: 2,
    perTryTimeoutMs: 0,
    retryOn: [...ISTIO_DEFAULT_RETRY_ON],
    retriableStatusCodes: [503],
  };
}

export const ISTIO_DEFAULT_RETRY_ON: readonly string[] = ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', 'retriable-status-codes'];

export function durationMs(v: string | undefined, onError: (m: string) => void, field: string): number {
  if (v === undefined) return 0;
  const d = tryParseDuration(v);
  if (d === undefined) {
    onError(`${field}: invalid duration ${JSON.stringify(v)}; ignored`);
    return 0;
  }
  return Math.round(d);
}

function lowerKeys(r: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(r ?? {})) out[k.toLowerCase()] = v;
  return out;
}

export function headerOps(h: HeaderOperations | undefined): waypoint.HeaderOps | undefined {
  if (h === undefined) return undefined;
  return create(waypoint.HeaderOpsSchema, { set: lowerKeys(h.set), add: lowerKeys(h.add), remove: (h.remove ?? []).map((n) => n.toLowerCase()) });
}

export function serviceFqdn(name: string, namespace: string, ctx: CompileContext): string {
  return `${name}.${namespace}.svc.${ctx.domainSuffix}`;
}

/** Fills in the subset's label selector from the DestinationRule, warning when the subset is unknown. */
export function withSubset(b: waypoint.WeightedBackend, drs: DestinationRuleIndex, warn: (m: string) => void): waypoint.WeightedBackend {
  if (b.subset === '') return b;
  const labels = drs.subsetLabels(b.hostname, b.subset);
  if (labels === undefined) {
    warn(`subset ${JSON.stringify(b.subset)} of ${b.hostname} is not defined by any DestinationRule; requests to it fail with 503 as in Istio`);
    return b;
  }
  b.subsetLabels = labels;
  return b;
}
