/**
 * The request attributes route selection looks at. Header names are lower-case (as Node's
 * IncomingHttpHeaders); a repeated header is matched on its values joined with ",", as Envoy does.
 */
export interface RouteRequest {
  readonly method: string;
  /** Request target path; may carry "?query" when `query` is not given. */
  readonly path: string;
  readonly authority: string;
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** Parsed query; when absent it is parsed from `path` on first use. */
  readonly query?: URLSearchParams;
  /** Destination (service) port the request arrived for. */
  readonly port: number;
}

/** One header's value as Envoy sees it for matching, or undefined when absent. */
export function headerValue(headers: RouteRequest['headers'], lowerName: string): string | undefined {
  const v = headers[lowerName];
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : v.join(',');
}

export function splitPathAndQuery(target: string): { path: string; query: string } {
  const q = target.indexOf('?');
  if (q < 0) return { path: target, query: '' };
  return { path: target.slice(0, q), query: target.slice(q + 1) };
}
