// The waypoint's own certificate from istiod's CreateCertificate, like pilot-agent: authenticated by its own
// service account token, with NO ImpersonatedIdentity (only node agents such as ztunnel may impersonate).
import fs from 'node:fs';
import { credentials as grpcCredentials, Metadata } from '@grpc/grpc-js';
import { createGrpcClient, IstioCertificateService } from '@mesh/api';
import type { FetchCertificate } from '@mesh/identity';

export const CA_CALL_TIMEOUT_MS = 10_000;

export interface CaFetchOptions {
  target: string;
  serverName: string;
  rootCertPem: Buffer;
  tokenFile: string;
  clusterId: string;
  ttlMs: number;
}

/** Read on every call: the kubelet rotates projected tokens. */
export function readToken(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}

export function createCaFetch(o: CaFetchOptions): { fetch: FetchCertificate; close(): void } {
  const client = createGrpcClient(IstioCertificateService, o.target, grpcCredentials.createSsl(o.rootCertPem), {
    'grpc.ssl_target_name_override': o.serverName,
    'grpc.default_authority': o.serverName,
  });
  const fetch: FetchCertificate = async (req) => {
    const md = new Metadata();
    md.set('clusterid', o.clusterId);
    const token = readToken(o.tokenFile);
    if (token) md.set('authorization', `Bearer ${token}`);
    const resp = await client.createCertificate(
      { csr: req.csrPem, validityDuration: BigInt(Math.floor(o.ttlMs / 1000)) },
      { metadata: md, deadline: Date.now() + CA_CALL_TIMEOUT_MS },
    );
    return resp.certChain;
  };
  return { fetch, close: () => client.close() };
}
