import { create, tryParseDuration, waypoint, type HeaderOperations, type StringMatch } from '@mesh/api';
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

type Kind = { case: 'exact' | 'prefix' | 'regex'; value: string } | { case: undefined };

/** An Istio StringMatch as the waypoint's match kind; `case: undefined` when it sets none. */
export function kindOf(m: StringMatch | undefined): Kind {
  if (m?.exact !== undefined) return { case: 'exact', value: m.exact };
  if (m?.prefix !== undefined) return { case: 'prefix', value: m.prefix };
  if (m?.regex !== undefined) return { case: 'regex', value: m.regex };
  return { case: undefined };
}

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

type KindLike = { readonly case?: string; readonly value?: unknown } | undefined;

function regexOf(kind: KindLike): string | undefined {
  return kind?.case === 'regex' && typeof kind.value === 'string' ? kind.value : undefined;
}

/**
 * Regexes travel as strings and are compiled by the waypoint (anchored JS RegExp, close to RE2);
 * one that cannot compile would never match there, so it is reported here, at config time.
 */
export function checkRouteRegexes(route: RouteInit, report: (message: string) => void): void {
  const patterns: string[] = [];
  for (const m of (route.matches ?? []) as RouteMatchLike[]) {
    for (const k of [m.path?.kind, m.method?.kind, m.authority?.kind, ...(m.headers ?? []).map((h) => h.kind), ...(m.queryParams ?? []).map((q) => q.kind)]) {
      const p = regexOf(k);
      if (p !== undefined) patterns.push(p);
    }
  }
  const rw = route.rewrite?.regexMatch;
  if (rw !== undefined && rw !== '') patterns.push(rw);
  for (const p of patterns) {
    try {
      new RegExp(p);
    } catch (e) {
      report(`route ${route.name ?? ''}: regex ${JSON.stringify(p)} is not supported (${e instanceof Error ? e.message : String(e)}); it will never match`);
    }
  }
}

interface RouteMatchLike {
  readonly path?: { readonly kind?: KindLike };
  readonly method?: { readonly kind?: KindLike };
  readonly authority?: { readonly kind?: KindLike };
  readonly headers?: readonly { readonly kind?: KindLike }[];
  readonly queryParams?: readonly { readonly kind?: KindLike }[];
}
