import { normalizePathBase } from './normalize-path';

/** What L7 authorization looks at. Header names lower-case. */
export interface AuthzRequest {
  readonly method: string;
  /** Request target as received; normalised (Istio BASE) before matching. */
  readonly path: string;
  /** :authority / Host. */
  readonly authority: string;
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** Destination (service) port. */
  readonly port: number;
  /** Peer identity from mTLS, e.g. spiffe://cluster.local/ns/default/sa/client; absent = plaintext. */
  readonly sourcePrincipal?: string;
  readonly sourceNamespace?: string;
  /** Direct peer address. */
  readonly sourceIp?: string;
  /** Original client address (X-Forwarded-For / PROXY); defaults to sourceIp. */
  readonly remoteIp?: string;
  readonly destinationIp?: string;
  /** "<iss>/<sub>" of a validated JWT. */
  readonly requestPrincipal?: string;
  /** Validated JWT payload. */
  readonly claims?: Readonly<Record<string, unknown>>;
  readonly sni?: string;
}

/** Per-request lazily computed attributes, shared by every policy evaluated for the request. */
export class AuthzView {
  private normalized: string | null | undefined;
  private principalNoScheme: string | undefined | null = null;

  constructor(readonly req: AuthzRequest) {}

  /** Normalised path, or null when the path is rejected (400). */
  path(): string | null {
    if (this.normalized === undefined) {
      const r = normalizePathBase(this.req.path);
      this.normalized = r.ok ? r.path : null;
    }
    return this.normalized;
  }

  /** Istio principals are written without the spiffe:// scheme ("cluster.local/ns/x/sa/y"). */
  principal(): string | undefined {
    if (this.principalNoScheme === null) {
      const p = this.req.sourcePrincipal;
      this.principalNoScheme = p === undefined || p === '' ? undefined : p.startsWith('spiffe://') ? p.slice('spiffe://'.length) : p;
    }
    return this.principalNoScheme;
  }

  namespace(): string | undefined {
    if (this.req.sourceNamespace !== undefined && this.req.sourceNamespace !== '') return this.req.sourceNamespace;
    const m = /\/ns\/([^/]+)\//.exec(this.principal() ?? '');
    return m?.[1];
  }

  /** "<ns>/<sa>" from the principal, for serviceAccounts. */
  serviceAccount(): string | undefined {
    const m = /\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(this.principal() ?? '');
    return m === null ? undefined : `${m[1]}/${m[2]}`;
  }

  remoteIp(): string | undefined {
    return this.req.remoteIp ?? this.req.sourceIp;
  }

  header(lowerName: string): string | undefined {
    const v = this.req.headers[lowerName];
    if (v === undefined) return undefined;
    return typeof v === 'string' ? v : v.join(',');
  }
}
