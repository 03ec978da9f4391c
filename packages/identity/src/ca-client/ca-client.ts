import { readFileSync } from 'node:fs';
import { credentials as grpcCredentials, Metadata, type ChannelCredentials, type ChannelOptions } from '@grpc/grpc-js';
import { createGrpcClient, IstioCertificateService, type GrpcClient } from '@mesh/api';
import { CertificateResponseError } from '../errors';
import { parseCertificateDer } from '../pki/certificate-der';
import { buildCsr } from '../pki/csr';
import { generateWorkloadKey, privateKeyToPem } from '../pki/keys';
import { formatSpiffeId, type Identity } from '../spiffe/identity';
import { pemBlocks } from '../der/decode';

/** ztunnel's default SECRET_TTL: the validity it asks the CA for. */
export const DEFAULT_REQUESTED_TTL_S = 24 * 3600;
/** Per-call deadline; ztunnel's CA client times out a CreateCertificate after 10s-ish. */
export const DEFAULT_CA_CALL_TIMEOUT_MS = 10_000;
const IMPERSONATED_IDENTITY_KEY = 'ImpersonatedIdentity';

export interface CaClientOptions {
  /** istiod CA `host:port` (usually istiod.istio-system.svc:15012). */
  address: string;
  /** TLS credentials; or give `rootCertPem` to trust istiod's root (/var/run/secrets/istio/root-cert.pem). */
  credentials?: ChannelCredentials;
  rootCertPem?: string | Buffer;
  /**
   * Static bearer token, or a file re-read on every call so a rotated projected token is used. A missing
   * token file sends no authorization header (see readTokenFile), so istiod's UNAUTHENTICATED says why.
   */
  token?: string;
  tokenFile?: string;
  /**
   * Send ImpersonatedIdentity (default true): a node agent (ztunnel) asks for its pods' identities. False for a
   * proxy requesting its OWN identity (pilot-agent, waypoint): istiod only lets node agents impersonate.
   */
  impersonate?: boolean;
  /** validity_duration asked for when a call gives no ttlS (ztunnel/pilot-agent: SECRET_TTL). */
  requestedTtlS?: number;
  /** Sent as `clusterid` (ztunnel: ISTIO_META_CLUSTER_ID). */
  clusterId?: string;
  /** Extra headers (ztunnel: CA_HEADER_*). */
  extraHeaders?: Readonly<Record<string, string>>;
  /** Override the TLS server name (e.g. dial an IP but verify istiod.istio-system.svc). */
  serverName?: string;
  channelOptions?: Partial<ChannelOptions>;
  callTimeoutMs?: number;
}

export interface FetchedCertificate {
  keyPem: string;
  /** Leaf first, then intermediates (roots not included). */
  certChainPem: string[];
  /** The trust anchors: the response's last element (may hold several roots). */
  rootsPem: string;
}

export interface CaClient {
  /** Fresh P-256 key + CSR for `identity`, signed by the CA; checks the leaf's SAN is `identity`. */
  fetchCertificate(identity: Identity, options?: { ttlS?: number }): Promise<FetchedCertificate>;
  /** Send a ready CSR; resolves to the raw cert_chain (leaf first, roots last). Fits CertificateManager's fetch. */
  createCertificate(request: { identity: Identity; csrPem: string }, options?: { ttlS?: number }): Promise<string[]>;
  close(): void;
}

/** Client for istiod's IstioCertificateService/CreateCertificate, shaped like ztunnel's (src/identity/caclient.rs). */
export function createCaClient(options: CaClientOptions): CaClient {
  const creds = options.credentials ?? tlsCredentials(options.rootCertPem);
  const channelOptions = {
    ...(options.serverName === undefined ? {} : { 'grpc.ssl_target_name_override': options.serverName, 'grpc.default_authority': options.serverName }),
    ...options.channelOptions,
  };
  const client: GrpcClient<typeof IstioCertificateService> = createGrpcClient(IstioCertificateService, options.address, creds, channelOptions);
  const timeoutMs = options.callTimeoutMs ?? DEFAULT_CA_CALL_TIMEOUT_MS;

  const createCertificate: CaClient['createCertificate'] = async (request, callOptions = {}) => {
    const spiffe = formatSpiffeId(request.identity);
    const response = await client.createCertificate(
      {
        csr: request.csrPem,
        validityDuration: BigInt(callOptions.ttlS ?? options.requestedTtlS ?? DEFAULT_REQUESTED_TTL_S),
        metadata: options.impersonate === false ? {} : { [IMPERSONATED_IDENTITY_KEY]: spiffe },
      },
      { metadata: metadataOf(options), deadline: Date.now() + timeoutMs },
    );
    const chain = response.certChain;
    if (chain.length < 2) throw new CertificateResponseError({ identity: spiffe, reason: `cert_chain has ${chain.length} element(s), want leaf + root` });
    checkLeafSan(chain[0] as string, spiffe);
    return chain;
  };

  return {
    createCertificate,
    fetchCertificate: async (identity, callOptions) => {
      const keys = generateWorkloadKey();
      const csrPem = buildCsr(identity, keys.privateKey, keys.publicKey);
      const chain = await createCertificate({ identity, csrPem }, callOptions);
      return { keyPem: privateKeyToPem(keys.privateKey), certChainPem: chain.slice(0, -1), rootsPem: chain[chain.length - 1] as string };
    },
    close: () => client.close(),
  };
}

function tlsCredentials(rootCertPem: string | Buffer | undefined): ChannelCredentials {
  if (rootCertPem === undefined) throw new TypeError('createCaClient needs `credentials` or `rootCertPem`');
  return grpcCredentials.createSsl(Buffer.from(rootCertPem));
}

/**
 * A projected service-account token, read on every call because the kubelet rotates it. A missing or
 * unreadable file yields undefined rather than throwing: the caller then sends no authorization header and
 * istiod's UNAUTHENTICATED answer tells the operator the token is absent (as ztunnel/pilot-agent behave
 * before the kubelet has mounted the token).
 */
export function readTokenFile(file: string): string | undefined {
  try {
    const token = readFileSync(file, 'utf8').trim();
    return token === '' ? undefined : token;
  } catch {
    return undefined;
  }
}

function metadataOf(o: CaClientOptions): Metadata {
  const md = new Metadata();
  const token = o.tokenFile !== undefined ? readTokenFile(o.tokenFile) : o.token;
  if (token !== undefined && token !== '') md.set('authorization', `Bearer ${token}`);
  if (o.clusterId !== undefined && o.clusterId !== '') md.set('clusterid', o.clusterId);
  for (const [k, v] of Object.entries(o.extraHeaders ?? {})) md.set(k.toLowerCase(), v);
  return md;
}

/** ztunnel refuses a certificate whose SAN is not the identity it asked for (caclient.rs). */
function checkLeafSan(leafPem: string, spiffe: string): void {
  const der = pemBlocks(leafPem, 'CERTIFICATE')[0];
  if (der === undefined) throw new CertificateResponseError({ identity: spiffe, reason: 'leaf is not a PEM certificate' });
  const sans = parseCertificateDer(der).uriSans;
  if (sans.length !== 1 || sans[0] !== spiffe) {
    throw new CertificateResponseError({ identity: spiffe, reason: `leaf SANs [${sans.join(', ')}] are not exactly ${spiffe}` });
  }
}
