import type { Route } from '../config/types';
import type { CompiledMatch, CompiledService } from './compile';
import { headerValue, splitPathAndQuery, type RouteRequest } from './request';

export interface RouteSelection {
  readonly route: Route;
  readonly routeIndex: number;
  /** Index of the first match that held; -1 for a route without matches (catch-all). */
  readonly matchIndex: number;
}

interface RequestView {
  readonly req: RouteRequest;
  readonly path: string;
  readonly rawQuery: string;
  query: URLSearchParams | undefined;
}

function queryOf(view: RequestView): URLSearchParams {
  view.query ??= view.req.query ?? new URLSearchParams(view.rawQuery);
  return view.query;
}

function matches(m: CompiledMatch, view: RequestView): boolean {
  const req = view.req;
  if (m.port !== 0 && m.port !== req.port) return false;
  if (m.method !== undefined && !m.method(req.method)) return false;
  if (m.path !== undefined && !m.path(view.path)) return false;
  if (m.authority !== undefined && !m.authority(req.authority)) return false;
  for (const h of m.headers) {
    if (!h.test(headerValue(req.headers, h.name))) return false;
  }
  if (m.query.length > 0) {
    const q = queryOf(view);
    for (const p of m.query) {
      // Envoy matches the first occurrence of a repeated parameter.
      if (!p.test(q.get(p.name) ?? undefined)) return false;
    }
  }
  return true;
}

/**
 * First matching route wins (VirtualService/HTTPRoute order as compiled by istiod); within a route
 * the matches are OR-ed and each match's conditions AND-ed. Undefined = no route: 404, as Envoy.
 */
export function selectRoute(service: CompiledService, req: RouteRequest): RouteSelection | undefined {
  const { path, query } = splitPathAndQuery(req.path);
  const view: RequestView = { req, path, rawQuery: query, query: undefined };
  const routes = service.routes;
  for (let i = 0; i < routes.length; i++) {
    const r = routes[i]!;
    if (r.matches.length === 0) return { route: r.route, routeIndex: i, matchIndex: -1 };
    for (let j = 0; j < r.matches.length; j++) {
      if (matches(r.matches[j]!, view)) return { route: r.route, routeIndex: i, matchIndex: j };
    }
  }
  return undefined;
}
