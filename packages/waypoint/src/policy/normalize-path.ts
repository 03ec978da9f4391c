/**
 * Istio's default path normalisation (meshConfig.pathNormalization BASE), applied before
 * authorization and forwarded upstream:
 *  - the query string and fragment are not part of the matched path (Istio matches `url_path`);
 *  - percent-encoded unreserved characters (ALPHA, DIGIT, "-", ".", "_", "~") are decoded once,
 *    other escapes are kept (with upper-case hex); %00 is rejected with 400;
 *  - backslashes become forward slashes;
 *  - "." and ".." segments are resolved as RFC 3986 section 5.2.4 (remove_dot_segments).
 * Slashes are NOT merged and %2F / %5C are NOT decoded under BASE.
 * See istio.io/latest/docs/reference/config/security/normalization and
 * istio.io/latest/docs/ops/best-practices/security/#understand-path-normalization-in-authorization-policy.
 */
export type PathNormalizationResult = { readonly ok: true; readonly path: string } | { readonly ok: false; readonly reason: string };

function isUnreserved(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e;
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

function decodeUnreserved(p: string): PathNormalizationResult {
  if (p.indexOf('%') < 0 && p.indexOf('\\') < 0) return { ok: true, path: p };
  let out = '';
  for (let i = 0; i < p.length; i++) {
    const ch = p.charCodeAt(i);
    if (ch === 0x5c) {
      out += '/';
      continue;
    }
    if (ch === 0x25 && i + 2 < p.length) {
      const hi = hexVal(p.charCodeAt(i + 1));
      const lo = hexVal(p.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) {
        const v = hi * 16 + lo;
        if (v === 0) return { ok: false, reason: 'path contains %00' };
        out += isUnreserved(v) ? String.fromCharCode(v) : `%${p[i + 1]!.toUpperCase()}${p[i + 2]!.toUpperCase()}`;
        i += 2;
        continue;
      }
    }
    out += p[i];
  }
  return { ok: true, path: out };
}

/** RFC 3986 5.2.4 on an absolute path. */
export function removeDotSegments(path: string): string {
  if (path.indexOf('.') < 0) return path;
  const segs = path.split('/');
  const out: string[] = [];
  // segs[0] is '' for an absolute path.
  for (let i = 1; i < segs.length; i++) {
    const s = segs[i]!;
    const last = i === segs.length - 1;
    if (s === '.') {
      if (last) out.push('');
    } else if (s === '..') {
      out.pop();
      if (last) out.push('');
    } else {
      out.push(s);
    }
  }
  return `/${out.join('/')}`;
}

export function normalizePathBase(target: string): PathNormalizationResult {
  let end = target.length;
  const q = target.indexOf('?');
  if (q >= 0) end = q;
  const h = target.indexOf('#');
  if (h >= 0 && h < end) end = h;
  const raw = target.slice(0, end);
  if (raw.length === 0 || (raw.charCodeAt(0) !== 0x2f && raw.charCodeAt(0) !== 0x5c)) {
    return { ok: false, reason: 'path must start with /' };
  }
  const decoded = decodeUnreserved(raw);
  if (!decoded.ok) return decoded;
  return { ok: true, path: removeDotSegments(decoded.path) };
}
