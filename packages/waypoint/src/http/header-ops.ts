// Route/backend header manipulation (VirtualService headers.request/response, HTTPRoute filters). Envoy
// order: remove, then set (overwrite), then add (append).
import type { waypoint } from '@mesh/api';

export type HeaderMap = Record<string, string | string[] | undefined>;

export function applyHeaderOps(headers: HeaderMap, ops: waypoint.HeaderOps | undefined): void {
  if (ops === undefined) return;
  for (const name of ops.remove) delete headers[name.toLowerCase()];
  for (const [name, value] of Object.entries(ops.set)) headers[name.toLowerCase()] = value;
  for (const [name, value] of Object.entries(ops.add)) {
    const k = name.toLowerCase();
    const cur = headers[k];
    if (cur === undefined) headers[k] = value;
    else headers[k] = Array.isArray(cur) ? [...cur, value] : [cur, value];
  }
}

/** RFC 9110 hop-by-hop headers plus HTTP/2 pseudo headers: never forwarded by a proxy. */
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer',
  'proxy-authenticate', 'proxy-authorization', 'http2-settings',
]);

/** Copies headers minus hop-by-hop ones, those named in `Connection`, and pseudo headers. */
export function forwardableHeaders(src: Readonly<Record<string, string | string[] | undefined>>): HeaderMap {
  const out: HeaderMap = {};
  const conn = src.connection;
  const named = conn === undefined ? undefined : new Set(String(conn).toLowerCase().split(',').map((s) => s.trim()));
  for (const k of Object.keys(src)) {
    if (k.charCodeAt(0) === 58 /* : */ || HOP_BY_HOP.has(k) || named?.has(k)) continue;
    // Envoy forwards `te: trailers` (gRPC needs it) and drops any other TE value.
    out[k] = src[k];
  }
  if (src.te === 'trailers') out.te = 'trailers';
  return out;
}
