import { create, waypoint, type Destination, type HTTPMatchRequest, type IstioHTTPRoute, type StringMatch, type VirtualService } from '@mesh/api';
import { nsOf, type CompileContext } from './context';
import { durationMs, headerOps, ISTIO_DEFAULT_RETRY_ON, istioDefaultRetry, kindOf, withSubset } from './common';
import type { DestinationRuleIndex } from './destination-rule';
import { compileVsCors } from './cors';
import { resolveHost } from './hosts';
import type { RouteInit, RouteMatchInit } from './types';

function headerMatches(h: Record<string, StringMatch> | undefined, invert: boolean): NonNullable<RouteMatchInit['headers']> {
  return Object.entries(h ?? {}).map(([name, m]) => {
    const k = kindOf(m);
    // An empty StringMatch means "header present" in Istio.
    return { name: name.toLowerCase(), kind: k.case === undefined ? { case: 'present' as const, value: true } : k, invert };
  });
}

function compileMatch(m: HTTPMatchRequest, warn: (msg: string) => void): RouteMatchInit {
  for (const f of ['scheme', 'sourceLabels', 'gateways', 'sourceNamespace'] as const) {
    if (m[f] !== undefined) warn(`match.${f} is not supported by the waypoint; the condition is ignored`);
  }
  const uri = kindOf(m.uri);
  const query = Object.entries(m.queryParams ?? {}).map(([name, q]) => {
    const k = kindOf(q);
    return { name, kind: k.case === undefined ? { case: 'present' as const, value: true } : k };
  });
  return {
    name: m.name ?? '',
    path: uri.case === undefined ? undefined : { kind: uri },
    ignoreUriCase: m.ignoreUriCase ?? false,
    method: m.method === undefined ? undefined : { kind: kindOf(m.method) },
    authority: m.authority === undefined ? undefined : { kind: kindOf(m.authority) },
    headers: [...headerMatches(m.headers, false), ...headerMatches(m.withoutHeaders, true)],
    queryParams: query,
    port: m.port ?? 0,
  };
}

function destination(d: Destination, ns: string, ctx: CompileContext): waypoint.WeightedBackend {
  return create(waypoint.WeightedBackendSchema, { hostname: resolveHost(d.host, ns, ctx.domainSuffix), port: d.port?.number ?? 0, subset: d.subset ?? '' });
}

function backends(r: IstioHTTPRoute, ns: string, ctx: CompileContext, drs: DestinationRuleIndex, warn: (m: string) => void): waypoint.WeightedBackend[] {
  const list = r.route ?? [];
  const allUnset = list.every((d) => d.weight === undefined);
  return list.map((d) => {
    // Istio: a single destination takes all traffic; weights otherwise as written.
    const weight = list.length === 1 || allUnset ? 100 : d.weight ?? 0;
    const b = destination(d.destination, ns, ctx);
    b.weight = weight;
    b.requestHeaders = headerOps(d.headers?.request);
    b.responseHeaders = headerOps(d.headers?.response);
    return withSubset(b, drs, warn);
  });
}

function retries(r: IstioHTTPRoute, warn: (m: string) => void): RouteInit['retries'] {
  if (r.retries === undefined) return istioDefaultRetry();
  const on = (r.retries.retryOn ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const codes = on.filter((s) => /^\d{3}$/.test(s)).map(Number);
  const conds = on.filter((s) => !/^\d{3}$/.test(s));
  if (codes.length > 0 && !conds.includes('retriable-status-codes')) conds.push('retriable-status-codes');
  return {
    attempts: r.retries.attempts ?? 0,
    perTryTimeoutMs: durationMs(r.retries.perTryTimeout, warn, 'retries.perTryTimeout'),
    // Istio's default retryOn when attempts are set without conditions.
    retryOn: conds.length > 0 ? conds : [...ISTIO_DEFAULT_RETRY_ON],
    retriableStatusCodes: codes.length > 0 ? codes : conds.length > 0 ? [] : [503],
  };
}

function fault(r: IstioHTTPRoute, warn: (m: string) => void): RouteInit['fault'] {
  const f = r.fault;
  if (f === undefined) return undefined;
  // Istio: a fault without a percentage injects nothing ("If left unspecified, no request will be ...").
  const delay = f.delay === undefined ? undefined : { percent: f.delay.percentage?.value ?? f.delay.percent ?? 0, fixedDelayMs: durationMs(f.delay.fixedDelay, warn, 'fault.delay.fixedDelay') };
  const abort = f.abort === undefined ? undefined : { percent: f.abort.percentage?.value ?? 0, httpStatus: f.abort.httpStatus ?? 0, grpcStatus: f.abort.grpcStatus ?? '' };
  return { delay, abort };
}

function mirrors(r: IstioHTTPRoute, ns: string, ctx: CompileContext, drs: DestinationRuleIndex, warn: (m: string) => void): waypoint.Mirror[] {
  const out: waypoint.Mirror[] = [];
  const add = (d: Destination, percent: number) => {
    const b = withSubset(destination(d, ns, ctx), drs, warn);
    out.push(create(waypoint.MirrorSchema, { destination: { hostname: b.hostname, port: b.port, subset: b.subset, subsetLabels: b.subsetLabels }, percent }));
  };
  if (r.mirror !== undefined) add(r.mirror, r.mirrorPercentage?.value ?? 100);
  for (const m of r.mirrors ?? []) add(m.destination, m.percentage?.value ?? 100);
  return out;
}

/** HTTPBody is `string` or base64 `bytes` (carried as UTF-8 text: the compiled body is a string). */
function directBody(body: { string?: string; bytes?: string } | undefined): string {
  if (body?.string !== undefined) return body.string;
  return body?.bytes === undefined ? '' : Buffer.from(body.bytes, 'base64').toString('utf8');
}

function compileHttpRoute(vs: VirtualService, r: IstioHTTPRoute, i: number, ctx: CompileContext, drs: DestinationRuleIndex): RouteInit {
  const ns = nsOf(vs);
  const warn = (m: string) => ctx.warn(vs, 'UNSUPPORTED_FIELD', `http[${i}]: ${m}`);
  if (r.redirect?.derivePort !== undefined) warn('redirect.derivePort is not supported; the request port is kept');
  const rw = r.rewrite;
  return {
    name: r.name !== undefined ? `${ns}/${vs.metadata.name}/${r.name}` : `${ns}/${vs.metadata.name}/${i}`,
    source: { kind: 'VirtualService', namespace: ns, name: vs.metadata.name, index: i },
    matches: (r.match ?? []).map((m) => compileMatch(m, warn)),
    backends: backends(r, ns, ctx, drs, warn),
    timeoutMs: durationMs(r.timeout, warn, 'timeout'),
    redirect: r.redirect === undefined ? undefined : {
      uri: r.redirect.uri ?? '',
      authority: r.redirect.authority ?? '',
      port: r.redirect.port ?? 0,
      scheme: r.redirect.scheme ?? '',
      responseCode: r.redirect.redirectCode ?? 301,
    },
    rewrite: rw === undefined ? undefined : {
      path: rw.uri !== undefined ? { case: 'uriPrefix', value: rw.uri } : { case: undefined },
      authority: rw.authority ?? '',
      regexMatch: rw.uriRegexRewrite?.match ?? '',
      regexSubstitution: rw.uriRegexRewrite?.rewrite ?? '',
    },
    requestHeaders: headerOps(r.headers?.request),
    responseHeaders: headerOps(r.headers?.response),
    retries: retries(r, warn),
    fault: fault(r, warn),
    mirrors: mirrors(r, ns, ctx, drs, warn),
    directResponse: r.directResponse === undefined ? undefined : { status: r.directResponse.status, body: directBody(r.directResponse.body) },
    cors: r.corsPolicy === undefined ? undefined : compileVsCors(r.corsPolicy, warn),
  };
}

/** A VirtualService applies to the waypoint when bound to the mesh and visible to its namespace. */
export function vsAppliesToMesh(vs: VirtualService, waypointNs: string): boolean {
  const gws = vs.spec.gateways ?? [];
  if (gws.length > 0 && !gws.includes('mesh')) return false;
  const exportTo = vs.spec.exportTo ?? ['*'];
  return exportTo.includes('*') || exportTo.includes(waypointNs) || (exportTo.includes('.') && nsOf(vs) === waypointNs);
}

export function compileVirtualServiceRoutes(vs: VirtualService, ctx: CompileContext, drs: DestinationRuleIndex): RouteInit[] {
  if ((vs.spec.tcp?.length ?? 0) > 0 || (vs.spec.tls?.length ?? 0) > 0) {
    ctx.warn(vs, 'UNSUPPORTED_FIELD', 'tcp/tls routes are not applied by the waypoint (HTTP only)');
  }
  const out: RouteInit[] = [];
  (vs.spec.http ?? []).forEach((r, i) => {
    if (r.delegate === undefined) out.push(compileHttpRoute(vs, r, i, ctx, drs));
    // expandDelegates resolved every delegate it could; one left here was not resolvable.
    else ctx.warn(vs, 'UNRESOLVED_REFERENCE', `http[${i}]: delegate could not be resolved; route skipped`);
  });
  return out;
}
