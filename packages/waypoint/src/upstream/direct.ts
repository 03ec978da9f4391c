// Waypoint -> an endpoint outside the mesh (workload tunnel_protocol NONE: a pod outside ambient, a
// WorkloadEntry, a ServiceEntry endpoint): a direct TCP connection to ip:port instead of an HBONE tunnel, in
// plaintext or with TLS originated here when the DestinationRule's trafficPolicy.tls says SIMPLE/MUTUAL
// (Envoy's per-endpoint transport socket match on waypoint clusters, I:pilot/pkg/networking/core/
// cluster_waypoint.go). ISTIO_MUTUAL to such an endpoint is the mesh's own mTLS (a sidecar's inbound).
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import tls, { type ConnectionOptions, type PeerCertificate, type SecureContext } from 'node:tls';
import type { Duplex } from 'node:stream';
import { waypoint } from '@mesh/api';
import { parseSubjectAltNames, verifyServerSans } from '@mesh/hbone';
import { hostPort } from './ip';

/**
 * What the upstream cluster (outbound|port|subset|host) says about reaching its endpoints. Immutable per
 * object (transportKey is cached per object).
 */
export interface UpstreamTransport {
  /** Envoy's cluster name, outbound|<port>|<subset>|<host>. */
  readonly name: string;
  /** The destination service's hostname: the default TLS server name. */
  readonly host: string;
  /** DestinationRule trafficPolicy.tls; applies to non-HBONE endpoints only. */
  readonly tls: waypoint.UpstreamTls | undefined;
  /** "DestinationRule <ns>/<name>" the policy came from, for logs. */
  readonly source?: string | undefined;
  /** connectionPool.tcp.connectTimeout in ms; 0 = the proxy default. */
  readonly connectTimeoutMs?: number | undefined;
}

/** A TLS origination failure: config (unreadable file, missing client cert) or the handshake itself. */
export class UpstreamTlsError extends Error {
  /** Envoy's "transport failure reason" text for the local reply. */
  readonly transportFailureReason: string;
  constructor(reason: string) {
    super(`upstream TLS failed: ${reason}`);
    this.name = 'UpstreamTlsError';
    this.transportFailureReason = `TLS_error: ${reason}`;
  }
}

export interface DirectConnect {
  /** IP, or a DNS name (hostname workloads: resolved at connect time, as Envoy's DNS clusters). */
  readonly address: string;
  readonly port: number;
  readonly transport: UpstreamTransport | undefined;
  /** The endpoint workload's SPIFFE id: the expected peer for ISTIO_MUTUAL without subjectAltNames. */
  readonly identity: string;
  /** ALPN for TLS: ['h2'] for HTTP2/GRPC ports, ['http/1.1'] for HTTP/1, none for TCP. */
  readonly alpn: readonly string[] | undefined;
  readonly timeoutMs: number;
  /** The waypoint's own mesh TLS context (ISTIO_MUTUAL). */
  readonly meshContext: () => Promise<SecureContext>;
}

const M = waypoint.UpstreamTls_Mode;
const ISTIO_ALPN = ['istio-peer-exchange', 'istio'];

/** Whether TLS is originated to non-HBONE endpoints of this cluster. */
export function originatesTls(t: UpstreamTransport | undefined): boolean {
  const mode = t?.tls?.mode ?? M.DISABLE;
  return mode !== M.DISABLE;
}

/** transportKey per transport object: a cluster's policy never changes, so the key is built once. */
const transportKeys = new WeakMap<UpstreamTransport, string>();

/** Pool key part: connections are shared only between identical transport settings. */
export function transportKey(t: UpstreamTransport | undefined): string {
  if (!originatesTls(t)) return 'plain';
  let key = transportKeys.get(t!);
  if (key === undefined) {
    const s = t!.tls!;
    key = JSON.stringify([s.mode, serverName(t!), s.subjectAltNames, s.caCertificates, s.clientCertificate, s.privateKey, s.insecureSkipVerify]);
    transportKeys.set(t!, key);
  }
  return key;
}

function serverName(t: UpstreamTransport): string {
  if (t.tls?.mode === M.ISTIO_MUTUAL) return t.tls.sni || t.name.split('|').join('_.');
  return t.tls?.sni || t.host;
}

/** Every SAN value of the certificate (DNS, URI, IP Address, email). */
function allSans(cert: PeerCertificate): string[] {
  return parseSubjectAltNames(cert.subjectaltname).map((e) => e.value);
}

/** Exact match, or a DNS wildcard SAN covering exactly one label (as Envoy's SAN matcher). */
function sanMatches(got: string, want: string): boolean {
  if (got.toLowerCase() === want.toLowerCase()) return true;
  if (!got.startsWith('*.')) return false;
  const dot = want.indexOf('.');
  return dot > 0 && want.slice(dot).toLowerCase() === got.slice(1).toLowerCase();
}

function sanVerifier(expected: readonly string[], values: (c: PeerCertificate) => string[]): (host: string, cert: PeerCertificate) => Error | undefined {
  return (_host, cert) => {
    const got = values(cert);
    if (got.some((g) => expected.some((w) => sanMatches(g, w)))) return undefined;
    return new Error(`certificate SANs [${got.join(', ')}] match none of subjectAltNames [${expected.join(', ')}]`);
  };
}

async function readPem(t: UpstreamTransport, field: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : String(e));
    throw new UpstreamTlsError(`${t.source ?? t.name} trafficPolicy.tls.${field} ${path} cannot be read (${code})`);
  }
}

async function tlsOptions(c: DirectConnect, t: UpstreamTransport): Promise<ConnectionOptions> {
  const s = t.tls!;
  const servername = serverName(t);
  const base: ConnectionOptions = {
    host: c.address, port: c.port,
    ...(net.isIP(servername) === 0 ? { servername } : {}),
    rejectUnauthorized: !s.insecureSkipVerify,
  };
  if (s.mode === M.ISTIO_MUTUAL) {
    const expected = s.subjectAltNames.length > 0 ? s.subjectAltNames : [c.identity];
    return {
      ...base, secureContext: await c.meshContext(), ALPNProtocols: [...ISTIO_ALPN, ...(c.alpn?.includes('h2') === true ? ['h2'] : [])],
      // SPIFFE identities match exactly (URI SANs, as ztunnel and Istio's exact SAN matcher): no DNS wildcards.
      checkServerIdentity: (_host, cert) => verifyServerSans(cert, expected),
    };
  }
  const ca = s.caCertificates === '' ? undefined : await readPem(t, 'caCertificates', s.caCertificates);
  let clientCert: { cert: Buffer; key: Buffer } | undefined;
  if (s.mode === M.MUTUAL) {
    if (s.clientCertificate === '' || s.privateKey === '') {
      throw new UpstreamTlsError(`${t.source ?? t.name} trafficPolicy.tls mode MUTUAL has no clientCertificate/privateKey`);
    }
    clientCert = { cert: await readPem(t, 'clientCertificate', s.clientCertificate), key: await readPem(t, 'privateKey', s.privateKey) };
  }
  return {
    ...base,
    ...(ca === undefined ? {} : { ca }),
    ...clientCert,
    ...(c.alpn === undefined ? {} : { ALPNProtocols: [...c.alpn] }),
    checkServerIdentity: s.subjectAltNames.length > 0 ? sanVerifier(s.subjectAltNames, allSans) : (_h, cert) => tls.checkServerIdentity(servername, cert),
  };
}

/** Opens the connection; rejects (a connect failure for the caller) on refusal, timeout or TLS failure. */
export async function connectDirect(c: DirectConnect): Promise<Duplex> {
  const t = c.transport;
  const origin = originatesTls(t);
  let opts: ConnectionOptions | undefined;
  if (origin) {
    try {
      opts = await tlsOptions(c, t!);
    } catch (e) {
      throw e instanceof UpstreamTlsError ? e : new UpstreamTlsError(e instanceof Error ? e.message : String(e));
    }
  }
  return new Promise<Duplex>((resolve, reject) => {
    const socket = opts === undefined ? net.connect({ host: c.address, port: c.port }) : tls.connect(opts);
    let tcpUp = false;
    const fail = (err: Error): void => {
      socket.destroy();
      const tlsStage = opts !== undefined && tcpUp;
      reject(tlsStage && !(err instanceof UpstreamTlsError) ? new UpstreamTlsError(`${(err as NodeJS.ErrnoException).code ?? 'handshake'}: ${err.message}`) : err);
    };
    const onTimeout = (): void => {
      const what = tcpUp ? 'TLS handshake with' : 'connect to';
      fail(new Error(`${what} ${hostPort(c.address, c.port)} timed out after ${c.timeoutMs} ms`));
    };
    socket.setTimeout(c.timeoutMs, onTimeout);
    socket.once('error', fail);
    socket.once('connect', () => {
      tcpUp = true;
    });
    socket.once(opts === undefined ? 'connect' : 'secureConnect', () => {
      // The connect timeout and its listener go: a later idle timeout of the owner must not fail the connect.
      socket.setTimeout(0);
      socket.removeListener('timeout', onTimeout);
      socket.removeListener('error', fail);
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}
