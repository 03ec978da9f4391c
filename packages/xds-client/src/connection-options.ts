// The connection half of a proxy's ADS client, shared by ztunnel and the waypoint: TLS trusting istiod's root
// with an optional server-name override, and per-(re)connect headers carrying the projected service-account
// token and clusterid, as ztunnel (src/xds/client.rs) and pilot-agent send to istiod :15012.
import { readFileSync } from 'node:fs';
import { credentials as grpcCredentials } from '@grpc/grpc-js';
import type { DeltaXdsClientOptions, NodeInit } from './types';

export interface XdsConnectionConfig {
  /** `host:port` of istiod's xDS endpoint. */
  address: string;
  /** istiod's root certificate (ROOT_CERT / XDS_ROOT_CA). Ignored when `insecure`. */
  rootCertPem: Buffer | string;
  /** Verify this name instead of the dialled host (XDS_SERVER_NAME), e.g. dial an IP, check istiod.istio-system.svc. */
  serverName?: string;
  /** Projected token file, re-read on every (re)connect because the kubelet rotates it. */
  tokenFile: string;
  clusterId: string;
  /** Plaintext gRPC (tests only). */
  insecure?: boolean;
}

export type XdsConnectionOptions = Pick<DeltaXdsClientOptions, 'address' | 'credentials' | 'channelOptions' | 'metadata'>;

export function xdsConnectionOptions(c: XdsConnectionConfig): XdsConnectionOptions {
  if (c.insecure === true) {
    return { address: c.address, credentials: grpcCredentials.createInsecure(), channelOptions: {}, metadata: () => xdsHeaders(c) };
  }
  const override = c.serverName === undefined || c.serverName === ''
    ? {}
    : { 'grpc.ssl_target_name_override': c.serverName, 'grpc.default_authority': c.serverName };
  return {
    address: c.address,
    credentials: grpcCredentials.createSsl(Buffer.from(c.rootCertPem)),
    channelOptions: override,
    metadata: () => xdsHeaders(c),
  };
}

/**
 * A missing token file sends no authorization header rather than failing the connect: istiod then answers
 * UNAUTHENTICATED, which the client reports and retries until the kubelet has mounted the token.
 */
function xdsHeaders(c: Pick<XdsConnectionConfig, 'tokenFile' | 'clusterId'>): Record<string, string> {
  const token = readToken(c.tokenFile);
  return token === undefined ? { clusterid: c.clusterId } : { authorization: `Bearer ${token}`, clusterid: c.clusterId };
}

function readToken(file: string): string | undefined {
  try {
    const token = readFileSync(file, 'utf8').trim();
    return token === '' ? undefined : token;
  } catch {
    return undefined;
  }
}

export interface ProxyNodeIdentity {
  instanceIp: string;
  podName: string;
  podNamespace: string;
}

/** Istio's node id `<type>~<ip>~<pod>.<ns>~<ns>.svc.cluster.local` (type: ztunnel, waypoint, sidecar, router). */
export function proxyNodeId(type: string, p: ProxyNodeIdentity): string {
  return `${type}~${p.instanceIp}~${p.podName}.${p.podNamespace}~${p.podNamespace}.svc.cluster.local`;
}

/** A Node with string-valued metadata fields (NAME, NAMESPACE, INSTANCE_IPS, CLUSTER_ID, ...), in the order given. */
export function proxyNode(id: string, metadata: Readonly<Record<string, string>>): NodeInit {
  const fields: Record<string, { kind: { case: 'stringValue'; value: string } }> = {};
  for (const [k, v] of Object.entries(metadata)) fields[k] = { kind: { case: 'stringValue', value: v } };
  return { id, metadata: { fields } };
}
