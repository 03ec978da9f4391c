import type { PathMatch, Route, RouteMatch, ServiceRoutes } from '../config/types';
import { compileCors } from './cors';
import { compileFullRegex, compileHeaderMatch, compileStringMatch, type OptionalValuePredicate, type StringPredicate } from './string-matchers';

/** A match with its conditions turned into predicates once, at config time. */
export interface CompiledMatch {
  readonly path: StringPredicate | undefined;
  readonly method: StringPredicate | undefined;
  readonly authority: StringPredicate | undefined;
  readonly port: number;
  readonly headers: readonly { readonly name: string; readonly test: OptionalValuePredicate }[];
  readonly query: readonly { readonly name: string; readonly test: OptionalValuePredicate }[];
}

export interface CompiledRoute {
  readonly route: Route;
  /** Empty = match everything. */
  readonly matches: readonly CompiledMatch[];
}

export interface CompiledService {
  readonly service: ServiceRoutes;
  readonly routes: readonly CompiledRoute[];
  /** Conditions that could not be compiled (e.g. a regex JS cannot parse); they never match. */
  readonly problems: readonly string[];
}

function compilePath(m: PathMatch, ignoreCase: boolean, where: string, problems: string[]): StringPredicate | undefined {
  const k = m.kind;
  switch (k.case) {
    case 'exact':
    case 'prefix':
    case 'regex':
      return compileStringMatch(k, where, problems, ignoreCase);
    case 'segmentPrefix': {
      // Gateway API PathPrefix: whole segments only (Envoy path_separated_prefix).
      const p = ignoreCase ? k.value.toLowerCase() : k.value;
      return (v) => {
        const s = ignoreCase ? v.toLowerCase() : v;
        return s.startsWith(p) && (s.length === p.length || s.charCodeAt(p.length) === 47 /* / */);
      };
    }
    default:
      return undefined;
  }
}

function compileMatch(m: RouteMatch, where: string, problems: string[]): CompiledMatch {
  return {
    path: m.path === undefined ? undefined : compilePath(m.path, m.ignoreUriCase, `${where} uri`, problems),
    method: m.method === undefined ? undefined : compileStringMatch(m.method.kind, `${where} method`, problems),
    authority: m.authority === undefined ? undefined : compileStringMatch(m.authority.kind, `${where} authority`, problems),
    port: m.port,
    headers: m.headers.map((h) => ({ name: h.name.toLowerCase(), test: compileHeaderMatch(h, `${where} header ${h.name}`, problems) })),
    query: m.queryParams.map((q) => ({ name: q.name, test: compileHeaderMatch(q, `${where} query ${q.name}`, problems) })),
  };
}

/** Precompiles a service's routes: regexes compiled and header names lower-cased once. */
export function compileService(service: ServiceRoutes): CompiledService {
  const problems: string[] = [];
  const routes = service.routes.map((route, i) => {
    const where = `${service.hostname} route ${route.name || i}`;
    if (route.cors !== undefined) compileCors(route.cors, where, problems);
    return { route, matches: route.matches.map((m, j) => compileMatch(m, `${where} match ${j}`, problems)) };
  });
  return { service, routes, problems };
}

/** Exposed for tests and the admin "explain" endpoint. */
export { compileFullRegex };
