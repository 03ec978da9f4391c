// xDS wiring (Z:src/xds/client.rs): delta ADS, Address + Authorization, applied into the state store. On
// disconnect the store keeps its last good state (the client reconnects with initial_resource_versions).
import { credentials as grpcCredentials } from '@grpc/grpc-js';
import {
  ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL, unpackAddress, unpackAuthorization, type Address, type Authorization,
} from '@mesh/api';
import type { Logger } from '@mesh/core';
import { DeltaXdsClient, type XdsTypeHandler, type XdsUpdate } from '@mesh/xds-client';
import { readToken } from './ca';

export interface XdsStateSink {
  applyAddresses(updates: readonly { name: string; resource: Address }[], removed: readonly string[]): void;
  applyAuthorizations(updates: readonly { name: string; resource: Authorization }[], removed: readonly string[]): void;
}

export interface XdsWiringOptions {
  target: string;
  serverName: string;
  rootCertPem: Buffer;
  tokenFile: string;
  clusterId: string;
  instanceIp: string;
  podName: string;
  podNamespace: string;
  nodeName: string;
  logger: Logger;
  /** Plaintext gRPC (tests only). */
  insecure?: boolean;
}

export function nodeId(o: Pick<XdsWiringOptions, 'instanceIp' | 'podName' | 'podNamespace'>): string {
  return `ztunnel~${o.instanceIp}~${o.podName}.${o.podNamespace}~${o.podNamespace}.svc.cluster.local`;
}

export function createXdsClient(o: XdsWiringOptions, sink: XdsStateSink): DeltaXdsClient {
  const addressType: XdsTypeHandler<Address> = {
    typeUrl: ADDRESS_TYPE_URL,
    decode: unpackAddress,
    apply: (u: readonly XdsUpdate<Address>[], removed) => sink.applyAddresses(u, removed),
  };
  const authzType: XdsTypeHandler<Authorization> = {
    typeUrl: AUTHORIZATION_TYPE_URL,
    decode: unpackAuthorization,
    apply: (u: readonly XdsUpdate<Authorization>[], removed) => sink.applyAuthorizations(u, removed),
  };
  return new DeltaXdsClient({
    address: o.target,
    credentials: o.insecure ? grpcCredentials.createInsecure() : grpcCredentials.createSsl(o.rootCertPem),
    channelOptions: o.insecure ? {} : { 'grpc.ssl_target_name_override': o.serverName, 'grpc.default_authority': o.serverName },
    metadata: (): Record<string, string> => {
      const token = readToken(o.tokenFile);
      return token ? { authorization: `Bearer ${token}`, clusterid: o.clusterId } : { clusterid: o.clusterId };
    },
    node: {
      id: nodeId(o),
      metadata: {
        fields: {
          NAME: { kind: { case: 'stringValue', value: o.podName } },
          NAMESPACE: { kind: { case: 'stringValue', value: o.podNamespace } },
          INSTANCE_IPS: { kind: { case: 'stringValue', value: o.instanceIp } },
          NODE_NAME: { kind: { case: 'stringValue', value: o.nodeName } },
          CLUSTER_ID: { kind: { case: 'stringValue', value: o.clusterId } },
        },
      },
    },
    types: [addressType as XdsTypeHandler<unknown>, authzType as XdsTypeHandler<unknown>],
    logger: o.logger,
  });
}
