// xdsConnectionOptions against a real TLS ADS server on loopback, with a throwaway self-signed istiod cert.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server, ServerCredentials, status, type Metadata } from '@grpc/grpc-js';
import { addGrpcService, AggregatedDiscoveryService, AUTHORIZATION_TYPE_URL, unpackAuthorization, type DeltaDiscoveryRequest } from '@mesh/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeltaXdsClient } from './client';
import { proxyNode, proxyNodeId, xdsConnectionOptions, type XdsConnectionConfig } from './connection-options';
import { defineXdsType, type DisconnectInfo } from './types';

const ISTIOD_NAME = 'istiod.istio-system.svc';
const dir = mkdtempSync(join(tmpdir(), 'xds-conn-'));
let certPem: Buffer;
let server: Server;
let port: number;
const streams: { headers: Metadata; node: string | undefined }[] = [];

beforeAll(async () => {
  // The cert names only istiod's DNS name, so dialling 127.0.0.1 verifies only with the server-name override.
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-subj', '/CN=istiod', '-addext', `subjectAltName=DNS:${ISTIOD_NAME}`,
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ], { stdio: 'ignore' });
  certPem = readFileSync(join(dir, 'cert.pem'));
  server = new Server();
  addGrpcService(server, AggregatedDiscoveryService, {
    streamAggregatedResources: (call) => call.end(),
    deltaAggregatedResources: (call) => {
      call.on('error', () => undefined);
      call.once('data', (r: DeltaDiscoveryRequest) => {
        streams.push({ headers: call.metadata, node: r.node?.id });
        // Like istiod without a token: refuse, so the client reconnects and re-reads the token file.
        if (call.metadata.get('authorization').length === 0) call.emit('error', { code: status.UNAUTHENTICATED, details: 'no token' });
      });
    },
  });
  const creds = ServerCredentials.createSsl(null, [{ private_key: readFileSync(join(dir, 'key.pem')), cert_chain: certPem }]);
  port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', creds, (e, p) => (e ? rej(e) : res(p))));
});
afterAll(() => {
  server.forceShutdown();
  rmSync(dir, { recursive: true, force: true });
});

function client(config: Omit<XdsConnectionConfig, 'address' | 'rootCertPem' | 'clusterId'>): DeltaXdsClient {
  return new DeltaXdsClient({
    ...xdsConnectionOptions({ address: `127.0.0.1:${port}`, rootCertPem: certPem, clusterId: 'east', ...config }),
    node: proxyNode('ztunnel~10.0.0.1~zt.ns~ns.svc.cluster.local', { NAME: 'zt' }),
    types: [defineXdsType({ typeUrl: AUTHORIZATION_TYPE_URL, decode: unpackAuthorization, apply: () => undefined })],
    initialBackoffMs: 10,
    maxBackoffMs: 20,
  });
}

async function waitFor(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('xdsConnectionOptions', () => {
  it('verifies istiod by the server name over TLS and re-reads a token file that appears after start', async () => {
    const tokenFile = join(dir, 'token');
    const c = client({ serverName: ISTIOD_NAME, tokenFile });
    const before = streams.length;
    try {
      c.start();
      await waitFor(() => streams.length > before, 'first stream');
      const first = streams[before];
      expect(first?.headers.get('authorization')).toEqual([]);
      expect(first?.headers.get('clusterid')).toEqual(['east']);
      expect(first?.node).toBe('ztunnel~10.0.0.1~zt.ns~ns.svc.cluster.local');
      writeFileSync(tokenFile, 'jwt-1\n');
      await waitFor(() => streams.slice(before).some((s) => s.headers.get('authorization')[0] === 'Bearer jwt-1'), 'stream with the token');
    } finally {
      c.close();
    }
  });

  it('without the server-name override the certificate does not match 127.0.0.1 and the connect fails', async () => {
    const c = client({ tokenFile: join(dir, 'token') });
    const disconnects: DisconnectInfo[] = [];
    c.on('disconnected', (d) => disconnects.push(d));
    try {
      c.start();
      await waitFor(() => disconnects.length > 0, 'a failed connect');
      expect(disconnects[0]?.code).toBe(status.UNAVAILABLE);
    } finally {
      c.close();
    }
  });

  it('insecure gives plaintext credentials and no TLS channel options', () => {
    const o = xdsConnectionOptions({ address: 'a:1', rootCertPem: '', serverName: ISTIOD_NAME, tokenFile: '/nonexistent', clusterId: 'c', insecure: true });
    expect(o.credentials._isSecure()).toBe(false);
    expect(o.channelOptions).toEqual({});
    expect(typeof o.metadata === 'function' ? o.metadata() : o.metadata).toEqual({ clusterid: 'c' });
  });
});

describe('proxyNodeId / proxyNode', () => {
  it('builds Istio node ids and string metadata fields', () => {
    expect(proxyNodeId('waypoint', { instanceIp: '10.1.2.3', podName: 'wp-1', podNamespace: 'app' })).toBe('waypoint~10.1.2.3~wp-1.app~app.svc.cluster.local');
    expect(proxyNode('id', { NAME: 'n', CLUSTER_ID: 'c' })).toEqual({
      id: 'id',
      metadata: { fields: { NAME: { kind: { case: 'stringValue', value: 'n' } }, CLUSTER_ID: { kind: { case: 'stringValue', value: 'c' } } } },
    });
  });
});
