import {
  create,
  waypoint,
  type BackendObjectReference,
  type GRPCRoute,
  type GRPCRouteMatch,
  type HTTPBackendRef,
  type HTTPHeaderFilter,
  type HTTPHeaderMatch,
  type HTTPRoute,
  type HTTPRouteFilter,
  type HTTPRouteMatch,
  type ParentReference,
} from '@mesh/api';
import { byAge, nsOf, type CompileContext } from './context';
import { compileGatewayCors } from './cors';
import { durationMs, ISTIO_DEFAULT_RETRY_ON, istioDefaultRetry, serviceFqdn } from './common';
import type { BoundService, RouteInit, RouteMatchInit } from './types';

type AnyRoute = HTTPRoute | GRPCRoute;

/** GAMMA: a parentRef to a Service is `kind: Service` with the core group ("" or "core"). */
export function isServiceParent(p: ParentReference): boolean {
  return p.kind === 'Service' && (p.group === '' || p.group === 'core' || p.group === undefined);
}

/** Istio also takes ServiceEntry parents (I:pilot/pkg/config/kube/gateway allowedParentReferences). */
function parentKind(p: ParentReference): BoundService['kind'] | undefined {
  if (isServiceParent(p)) return 'Service';
  return p.kind === 'ServiceEntry' && p.group === 'networking.istio.io' ? 'ServiceEntry' : undefined;
}

/** The ports (0 = all) of `svc` that `route` attaches to, or undefined when it does not attach. */
export function attachedPorts(route: AnyRoute, svc: BoundService, ctx: CompileContext): number[] | undefined {
  const ports: number[] = [];
  for (const p of route.spec.parentRefs ?? []) {
    const kind = parentKind(p);
    if (kind === undefined || kind !== (svc.kind ?? 'Service') || p.name !== svc.name || (p.namespace ?? nsOf(route)) !== svc.namespace) continue;
    if (nsOf(route) !== svc.namespace) {
      ctx.warn(route, 'NOT_PERMITTED', `consumer route for Service ${svc.namespace}/${svc.name} from another namespace is not applied by the waypoint (producer routes only)`);
      continue;
    }
    if (p.sectionName !== undefined) ctx.warn(route, 'UNSUPPORTED_FIELD', 'parentRefs[].sectionName is not supported for Service parents; use port');
    ports.push(p.port ?? 0);
  }
  return ports.length === 0 ? undefined : ports;
}

function headerMatch(h: HTTPHeaderMatch, lower: boolean): NonNullable<RouteMatchInit['headers']>[number] {
  const name = lower ? h.name.toLowerCase() : h.name;
  return h.type === 'RegularExpression' ? { name, kind: { case: 'regex', value: h.value } } : { name, kind: { case: 'exact', value: h.value } };
}

function httpMatch(m: HTTPRouteMatch): RouteMatchInit {
  const type = m.path?.type ?? 'PathPrefix';
  const value = m.path?.value ?? '/';
  let path: RouteMatchInit['path'];
  if (type === 'Exact') path = { kind: { case: 'exact', value } };
  else if (type === 'RegularExpression') path = { kind: { case: 'regex', value } };
  else {
    // Gateway API PathPrefix is segment-aware and ignores a trailing slash; "/" matches all.
    const trimmed = value.replace(/\/+$/, '');
    path = trimmed === '' ? { kind: { case: 'prefix', value: '/' } } : { kind: { case: 'segmentPrefix', value: trimmed } };
  }
  return {
    path,
    headers: (m.headers ?? []).map((h) => headerMatch(h, true)),
    queryParams: (m.queryParams ?? []).map((q) => headerMatch(q, false)),
    method: m.method === undefined ? undefined : { kind: { case: 'exact', value: m.method } },
  };
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function grpcMatch(m: GRPCRouteMatch): RouteMatchInit {
  const svc = m.method?.service;
  const method = m.method?.method;
  let path: RouteMatchInit['path'];
  if (m.method?.type === 'RegularExpression') {
    path = { kind: { case: 'regex', value: `/${svc ?? '[^/]+'}/${method ?? '[^/]+'}` } };
  } else if (svc !== undefined && method !== undefined) path = { kind: { case: 'exact', value: `/${svc}/${method}` } };
  else if (svc !== undefined) path = { kind: { case: 'prefix', value: `/${svc}/` } };
  else if (method !== undefined) path = { kind: { case: 'regex', value: `/[^/]+/${escapeRegex(method)}` } };
  else path = { kind: { case: 'prefix', value: '/' } };
  return { path, headers: (m.headers ?? []).map((h) => headerMatch(h, true)) };
}

function headerFilter(f: HTTPHeaderFilter | undefined): waypoint.HeaderOps | undefined {
  if (f === undefined) return undefined;
  const set: Record<string, string> = {};
  const add: Record<string, string> = {};
  for (const h of f.set ?? []) set[h.name.toLowerCase()] = h.value;
  for (const h of f.add ?? []) add[h.name.toLowerCase()] = h.value;
  return create(waypoint.HeaderOpsSchema, { set, add, remove: (f.remove ?? []).map((n) => n.toLowerCase()) });
}

interface BackendResolution {
  readonly hostname: string;
  readonly port: number;
}

function resolveBackend(ref: BackendObjectReference, route: AnyRoute, ctx: CompileContext): BackendResolution | undefined {
  const ns = ref.namespace ?? nsOf(route);
  const group = ref.group ?? '';
  const kind = ref.kind ?? 'Service';
  if (ns !== nsOf(route)) {
    // ReferenceGrants are not an input of this compiler, so cross-namespace references are refused.
    ctx.warn(route, 'NOT_PERMITTED', `backendRef ${ns}/${ref.name} is in another namespace and needs a ReferenceGrant; dropped`);
    return undefined;
  }
  if ((group === '' || group === 'core') && kind === 'Service') {
    if (ref.port === undefined) ctx.warn(route, 'INVALID_VALUE', `backendRef ${ref.name} has no port; the request's port is used`);
    return { hostname: serviceFqdn(ref.name, ns, ctx), port: ref.port ?? 0 };
  }
  if (group === 'networking.istio.io' && kind === 'Hostname') return { hostname: ref.name.toLowerCase(), port: ref.port ?? 0 };
  ctx.warn(route, 'UNSUPPORTED_FIELD', `backendRef kind ${group || 'core'}/${kind} is not supported; dropped`);
  return undefined;
}

function backends(refs: readonly HTTPBackendRef[], route: AnyRoute, ctx: CompileContext): waypoint.WeightedBackend[] {
  const out: waypoint.WeightedBackend[] = [];
  for (const ref of refs) {
    const r = resolveBackend(ref, route, ctx);
    if (r === undefined) continue;
    const b = create(waypoint.WeightedBackendSchema, { hostname: r.hostname, port: r.port, weight: ref.weight ?? 1 });
    for (const f of ref.filters ?? []) {
      if (f.type === 'RequestHeaderModifier') b.requestHeaders = headerFilter(f.requestHeaderModifier);
      else if (f.type === 'ResponseHeaderModifier') b.responseHeaders = headerFilter(f.responseHeaderModifier);
      else ctx.warn(route, 'UNSUPPORTED_FIELD', `backendRef filter ${f.type} is not supported; ignored`);
    }
    out.push(b);
  }
  return out;
}

function applyFilter(f: HTTPRouteFilter, out: RouteInit, route: AnyRoute, ctx: CompileContext): void {
  switch (f.type) {
    case 'RequestHeaderModifier':
      out.requestHeaders = headerFilter(f.requestHeaderModifier);
      return;
    case 'ResponseHeaderModifier':
      out.responseHeaders = headerFilter(f.responseHeaderModifier);
      return;
    case 'RequestRedirect': {
      const r = f.requestRedirect ?? {};
      // Gateway API's default redirect code is 302 (Istio VirtualService uses 301). ReplacePrefixMatch is
      // Istio's "%PREFIX()%" redirect, Envoy's redirect prefix_rewrite.
      const prefix = r.path?.type === 'ReplacePrefixMatch' ? r.path.replacePrefixMatch ?? '/' : '';
      const uri = r.path?.type === 'ReplaceFullPath' ? r.path.replaceFullPath ?? '' : '';
      out.redirect = { scheme: r.scheme ?? '', authority: r.hostname ?? '', port: r.port ?? 0, responseCode: r.statusCode ?? 302, uri, uriPrefix: prefix };
      return;
    }
    case 'URLRewrite': {
      const p = f.urlRewrite?.path;
      const path: NonNullable<RouteInit['rewrite']>['path'] =
        p?.type === 'ReplaceFullPath' ? { case: 'fullPath', value: p.replaceFullPath ?? '/' } : p?.type === 'ReplacePrefixMatch' ? { case: 'uriPrefix', value: p.replacePrefixMatch ?? '/' } : { case: undefined };
      out.rewrite = { authority: f.urlRewrite?.hostname ?? '', path };
      return;
    }
    case 'RequestMirror': {
      const m = f.requestMirror;
      const r = m === undefined ? undefined : resolveBackend(m.backendRef, route, ctx);
      if (r === undefined) return;
      const percent = m?.percent ?? (m?.fraction !== undefined ? (100 * m.fraction.numerator) / (m.fraction.denominator ?? 100) : 100);
      out.mirrors = [...((out.mirrors as waypoint.Mirror[] | undefined) ?? []), create(waypoint.MirrorSchema, { destination: { hostname: r.hostname, port: r.port }, percent })];
      return;
    }
    case 'CORS':
      if (f.cors !== undefined) out.cors = compileGatewayCors(f.cors, (m) => ctx.warn(route, 'UNSUPPORTED_FIELD', m));
      return;
    default:
      ctx.warn(route, 'UNSUPPORTED_FIELD', `filter ${f.type} is not supported by the waypoint; ignored`);
  }
}

interface RuleLike {
  readonly matches: RouteMatchInit[];
  readonly filters: readonly HTTPRouteFilter[];
  readonly backendRefs: readonly HTTPBackendRef[];
  readonly timeouts?: { request?: string; backendRequest?: string };
  readonly retry?: { codes?: number[]; attempts?: number; backoff?: string };
}

/**
 * Istio's HTTPRoute retry conversion: the connection errors Gateway API says to retry ("Implementations SHOULD
 * retry on connection errors ... if a retry stanza is configured") plus the listed codes, 2 attempts by
 * default; the codes replace the default retriable 503 (I:pilot/pkg/config/kube/gateway/conversion.go,
 * route/retry ConvertPolicy).
 */
function gatewayRetry(retry: NonNullable<RuleLike['retry']>): NonNullable<RouteInit['retries']> {
  const attempts = retry.attempts ?? 2;
  const codes = retry.codes ?? [];
  const retryOn = attempts === 0 ? [] : ISTIO_DEFAULT_RETRY_ON.filter((c) => c !== 'retriable-status-codes');
  if (attempts > 0 && codes.length > 0) retryOn.push('retriable-status-codes');
  return { attempts, perTryTimeoutMs: 0, retryOn, retriableStatusCodes: attempts > 0 ? codes : [] };
}

/** One compiled route per (rule, match), as Istio splits them before ordering. */
function compileRule(route: AnyRoute, rule: RuleLike, ruleIndex: number, ports: number[], ctx: CompileContext): RouteInit[] {
  const ns = nsOf(route);
  const warn = (m: string) => ctx.warn(route, 'INVALID_VALUE', `rules[${ruleIndex}]: ${m}`);
  const base: RouteInit = {
    source: { kind: route.kind, namespace: ns, name: route.metadata.name, index: ruleIndex },
    backends: backends(rule.backendRefs, route, ctx),
    timeoutMs: durationMs(rule.timeouts?.request, warn, 'timeouts.request'),
    retries: istioDefaultRetry(),
  };
  for (const f of rule.filters) applyFilter(f as HTTPRouteFilter, base, route, ctx);
  if (rule.retry !== undefined) {
    if (rule.retry.backoff !== undefined) ctx.warn(route, 'UNSUPPORTED_FIELD', `rules[${ruleIndex}]: retry.backoff is not supported; ignored`);
    base.retries = gatewayRetry(rule.retry);
  }
  // Istio: backendRequest is the per-try timeout under a retry stanza, else it becomes the route timeout.
  const backendRequestMs = durationMs(rule.timeouts?.backendRequest, warn, 'timeouts.backendRequest');
  if (backendRequestMs > 0) {
    if (rule.retry !== undefined) base.retries = { ...base.retries, perTryTimeoutMs: backendRequestMs };
    else base.timeoutMs = backendRequestMs;
  }
  // Gateway API: a rule with no usable backend (and no redirect) answers 500.
  if ((base.backends as unknown[]).length === 0 && base.redirect === undefined) base.directResponse = { status: 500, body: '' };
  const out: RouteInit[] = [];
  rule.matches.forEach((m, j) => {
    for (const port of ports) {
      const name = `${ns}/${route.metadata.name}/${ruleIndex}` + (rule.matches.length > 1 ? `.${j}` : '') + (port !== 0 ? `:${port}` : '');
      out.push({ ...base, name, matches: [{ ...m, port }] });
    }
  });
  return out;
}

export function compileHttpRouteRules(route: HTTPRoute, ports: number[], ctx: CompileContext): RouteInit[] {
  if ((route.spec.hostnames?.length ?? 0) > 0) ctx.warn(route, 'UNSUPPORTED_FIELD', 'hostnames are ignored for Service parents (GAMMA)');
  return (route.spec.rules ?? []).flatMap((r, i) =>
    compileRule(route, { matches: (r.matches?.length ? r.matches : [{}]).map(httpMatch), filters: r.filters ?? [], backendRefs: r.backendRefs ?? [], timeouts: r.timeouts, retry: r.retry }, i, ports, ctx),
  );
}

export function compileGrpcRouteRules(route: GRPCRoute, ports: number[], ctx: CompileContext): RouteInit[] {
  if ((route.spec.hostnames?.length ?? 0) > 0) ctx.warn(route, 'UNSUPPORTED_FIELD', 'hostnames are ignored for Service parents (GAMMA)');
  return (route.spec.rules ?? []).flatMap((r, i) =>
    compileRule(route, { matches: (r.matches?.length ? r.matches : [{}]).map(grpcMatch), filters: (r.filters ?? []) as HTTPRouteFilter[], backendRefs: r.backendRefs ?? [] }, i, ports, ctx),
  );
}

/** Istio's getURIRank/getURILength: exact, then prefix, then regex; the longer value first within a kind. */
function pathRank(m: RouteMatchInit): [number, number] {
  const k = m.path?.kind;
  if (k?.case === 'exact') return [0, k.value.length];
  if (k?.case === 'prefix' || k?.case === 'segmentPrefix') return [1, k.value.length];
  if (k?.case === 'regex') return [2, k.value.length];
  return [3, 0];
}

/**
 * Gateway API route precedence across all attached routes, as Istio's sortHTTPRoutes: exact path, then
 * prefix, then regex (implementation-specific in the spec), the longer path first within a kind; then a
 * method match, then most header matches, then most query matches; ties go to the oldest route, then
 * "<namespace>/<name>", then rule/match order (I:pilot/pkg/config/kube/gateway/conversion.go).
 */
export function sortGatewayRoutes(entries: { route: AnyRoute; compiled: RouteInit; order: number }[]): RouteInit[] {
  const key = (e: (typeof entries)[number]) => {
    const m = (e.compiled.matches as RouteMatchInit[])[0] ?? {};
    const [kind, len] = pathRank(m);
    return { kind, len, method: m.method === undefined ? 1 : 0, headers: (m.headers as unknown[] | undefined)?.length ?? 0, query: (m.queryParams as unknown[] | undefined)?.length ?? 0 };
  };
  return [...entries]
    .sort((a, b) => {
      const ka = key(a);
      const kb = key(b);
      return ka.kind - kb.kind || kb.len - ka.len || ka.method - kb.method || kb.headers - ka.headers || kb.query - ka.query || byAge(a.route, b.route) || a.order - b.order;
    })
    .map((e) => e.compiled);
}
