// VirtualService delegation (http[].delegate), resolved before compilation the way Istio merges it
// (I:pilot/pkg/model/virtualservice.go mergeVirtualServicesIfNeeded, mergeHTTPRoute, mergeHTTPMatchRequests):
// a root route's `delegate` is replaced by the delegate VirtualService's routes, each narrowed to the root's
// match conditions and inheriting the root's actions it does not set; a delegate route whose matches are not
// a subset of the root's is dropped. Only one level of delegation exists.
import type { HTTPMatchRequest, IstioHTTPRoute, StringMatch, VirtualService } from '@mesh/api';
import { guarded, nsOf, type CompileContext } from './context';
import { resolveHost } from './hosts';

type Match = HTTPMatchRequest;

/** Istio's stringMatchConflict: the leaf must be a subset of the root condition. */
function stringMatchConflict(root: StringMatch | undefined, leaf: StringMatch | undefined): boolean {
  if (root === undefined || leaf === undefined) return false;
  const has = (m: StringMatch) => (m.regex ?? '') !== '' || (m.prefix ?? '') !== '' || (m.exact ?? '') !== '';
  if ((root.regex ?? '') !== '' && has(leaf)) return true;
  if ((leaf.regex ?? '') !== '' && has(root)) return true;
  if ((root.exact ?? '') !== '') return (leaf.prefix ?? '') !== '' || leaf.exact !== root.exact;
  const prefix = root.prefix ?? '';
  if (prefix !== '') {
    if ((leaf.prefix ?? '') !== '') return !leaf.prefix!.startsWith(prefix);
    if ((leaf.exact ?? '') !== '') return !leaf.exact!.startsWith(prefix);
  }
  return true;
}

function mapConflict(root: Record<string, StringMatch> | undefined, leaf: Record<string, StringMatch> | undefined): boolean {
  return Object.entries(leaf ?? {}).some(([k, v]) => stringMatchConflict(root?.[k], v));
}

function hasConflict(root: Match, leaf: Match): boolean {
  const pairs: [StringMatch | undefined, StringMatch | undefined][] = [[root.uri, leaf.uri], [root.scheme, leaf.scheme], [root.method, leaf.method], [root.authority, leaf.authority]];
  if (pairs.some(([r, l]) => stringMatchConflict(r, l))) return true;
  if (mapConflict(root.headers, leaf.headers) || mapConflict(root.withoutHeaders, leaf.withoutHeaders) || mapConflict(root.queryParams, leaf.queryParams)) return true;
  if ((root.ignoreUriCase ?? false) !== (leaf.ignoreUriCase ?? false)) return true;
  if ((root.port ?? 0) > 0 && (leaf.port ?? 0) > 0 && root.port !== leaf.port) return true;
  if ((root.sourceNamespace ?? '') !== '' && leaf.sourceNamespace !== root.sourceNamespace) return true;
  return Object.entries(leaf.sourceLabels ?? {}).some(([k, v]) => root.sourceLabels?.[k] !== undefined && root.sourceLabels[k] !== v);
}

function joinedName(root: string | undefined, leaf: string | undefined): string | undefined {
  if ((leaf ?? '') === '') return root;
  return (root ?? '') === '' ? leaf : `${root}-${leaf}`;
}

function mergedMap<T>(root: Record<string, T> | undefined, leaf: Record<string, T> | undefined): Record<string, T> | undefined {
  return root === undefined && leaf === undefined ? undefined : { ...root, ...leaf };
}

function mergeMatch(root: Match, leaf: Match): Match {
  const out: Match = {
    ...leaf,
    uri: leaf.uri ?? root.uri,
    scheme: leaf.scheme ?? root.scheme,
    method: leaf.method ?? root.method,
    authority: leaf.authority ?? root.authority,
    headers: mergedMap(root.headers, leaf.headers),
    withoutHeaders: mergedMap(root.withoutHeaders, leaf.withoutHeaders),
    queryParams: mergedMap(root.queryParams, leaf.queryParams),
    sourceLabels: mergedMap(root.sourceLabels, leaf.sourceLabels),
    port: (leaf.port ?? 0) !== 0 ? leaf.port : root.port,
    sourceNamespace: (leaf.sourceNamespace ?? '') !== '' ? leaf.sourceNamespace : root.sourceNamespace,
    gateways: (leaf.gateways ?? []).length > 0 ? leaf.gateways : root.gateways,
  };
  const name = joinedName(root.name, leaf.name);
  if (name !== undefined) out.name = name;
  for (const k of Object.keys(out) as (keyof Match)[]) if (out[k] === undefined) delete out[k];
  return out;
}

/** Every leaf match must fall inside some root match; each compatible pair yields one merged match. */
function mergeMatches(root: readonly Match[], leaf: readonly Match[]): Match[] | undefined {
  if (root.length === 0) return [...leaf];
  if (leaf.length === 0) return [...root];
  const out: Match[] = [];
  for (const l of leaf) {
    const compatible = root.filter((r) => !hasConflict(r, l));
    if (compatible.length === 0) return undefined;
    for (const r of compatible) out.push(mergeMatch(r, l));
  }
  return out;
}

const INHERITED = ['rewrite', 'directResponse', 'timeout', 'retries', 'fault', 'mirror', 'mirrorPercentage', 'corsPolicy', 'mirrors', 'headers'] as const;

function mergeRoute(root: IstioHTTPRoute, leaf: IstioHTTPRoute): IstioHTTPRoute | undefined {
  const match = mergeMatches(root.match ?? [], leaf.match ?? []);
  if (match === undefined) return undefined;
  const out: IstioHTTPRoute = { ...leaf, match };
  const name = joinedName(root.name, leaf.name);
  if (name !== undefined) out.name = name;
  const o = out as Record<string, unknown>;
  for (const k of INHERITED) if (o[k] === undefined && root[k] !== undefined) o[k] = root[k];
  return out;
}

/** Destination hosts are short names relative to the delegate's own namespace (Istio resolves them first). */
function withResolvedHosts(r: IstioHTTPRoute, ns: string, ctx: CompileContext): IstioHTTPRoute {
  const fq = (h: string) => resolveHost(h, ns, ctx.domainSuffix);
  return {
    ...r,
    ...(r.route === undefined ? {} : { route: r.route.map((d) => ({ ...d, destination: { ...d.destination, host: fq(d.destination.host) } })) }),
    ...(r.mirror === undefined ? {} : { mirror: { ...r.mirror, host: fq(r.mirror.host) } }),
    ...(r.mirrors === undefined ? {} : { mirrors: r.mirrors.map((m) => ({ ...m, destination: { ...m.destination, host: fq(m.destination.host) } })) }),
  };
}

function exportedTo(vs: VirtualService, ns: string): boolean {
  const exportTo = vs.spec.exportTo ?? ['*'];
  return exportTo.includes('*') || exportTo.includes(ns) || (exportTo.includes('.') && nsOf(vs) === ns);
}

/**
 * Delegate VirtualServices (no hosts) are consumed here and never routed on their own; a root's delegating
 * route whose delegate is missing or not exported to the root's namespace is dropped, with a warning.
 */
export function expandDelegates(vss: readonly VirtualService[], ctx: CompileContext): VirtualService[] {
  const isDelegate = (vs: VirtualService) => guarded(ctx, vs, false, () => (vs.spec.hosts ?? []).length === 0);
  const delegates = new Map<string, VirtualService>();
  for (const vs of vss) if (isDelegate(vs)) delegates.set(`${nsOf(vs)}/${vs.metadata.name}`, vs);
  const out: VirtualService[] = [];
  for (const vs of vss) {
    if (isDelegate(vs)) continue;
    // Anything malformed is passed on as is: the route compiler reports it.
    out.push(guarded(ctx, vs, vs, () => expandRoot(vs, delegates, ctx)));
  }
  return out;
}

function expandRoot(vs: VirtualService, delegates: ReadonlyMap<string, VirtualService>, ctx: CompileContext): VirtualService {
  if (!(vs.spec.http ?? []).some((r) => r.delegate !== undefined)) return vs;
  const http = (vs.spec.http ?? []).flatMap((r, i) => {
    if (r.delegate === undefined) return [r];
    const key = `${r.delegate.namespace ?? nsOf(vs)}/${r.delegate.name ?? ''}`;
    const d = delegates.get(key);
    if (d === undefined || !exportedTo(d, nsOf(vs))) {
      ctx.warn(vs, 'UNRESOLVED_REFERENCE', `http[${i}]: delegate VirtualService ${key} not found or not exported to ${nsOf(vs)}; route skipped`);
      return [];
    }
    const { delegate: _dropped, ...root } = r;
    return (d.spec.http ?? []).flatMap((leaf, j) => {
      if (leaf.delegate !== undefined) {
        ctx.warn(d, 'INVALID_VALUE', `http[${j}]: a delegate VirtualService cannot delegate again (one level only); route skipped`);
        return [];
      }
      const merged = mergeRoute(root, withResolvedHosts(leaf, nsOf(d), ctx));
      if (merged === undefined) ctx.warn(d, 'INVALID_VALUE', `http[${j}]: matches are not a subset of root ${nsOf(vs)}/${vs.metadata.name} http[${i}]; route skipped`);
      return merged === undefined ? [] : [merged];
    });
  });
  return { ...vs, spec: { ...vs.spec, http } };
}
