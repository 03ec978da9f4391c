// xDS wiring (Z:src/xds/client.rs): delta ADS, Address + Authorization, applied into the state store. On
// disconnect the store keeps its last good state (the client reconnects with initial_resource_versions).
import {
  ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL, unpackAddress, unpackAuthorization, type Address, type Authorization,
} from '@mesh/api';
import type { Logger } from '@mesh/core';
import {
  DeltaXdsClient, proxyNode, proxyNodeId, xdsConnectionOptions, type ProxyNodeIdentity, type XdsConnectionConfig, type XdsTypeHandler,
  type XdsUpdate,
} from '@mesh/xds-client';

/** Where accepted xDS state goes; a returned promise delays the ACK until it settles (multi-worker fan-out). */
export interface XdsStateSink {
  applyAddresses(updates: readonly { name: string; resource: Address }[], removed: readonly string[]): void | Promise<void>;
  applyAuthorizations(updates: readonly { name: string; resource: Authorization }[], removed: readonly string[]): void | Promise<void>;
}

/** Connection (root cert, server name, token file, clusterid, `insecure` for tests) and pod identity, plus: */
export interface XdsWiringOptions extends Omit<XdsConnectionConfig, 'address'>, ProxyNodeIdentity {
  /** istiod's xDS `host:port`. */
  target: string;
  nodeName: string;
  logger: Logger;
}

export function nodeId(o: Pick<XdsWiringOptions, 'instanceIp' | 'podName' | 'podNamespace'>): string {
  return proxyNodeId('ztunnel', o);
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
    ...xdsConnectionOptions({ ...o, address: o.target }),
    node: proxyNode(nodeId(o), {
      NAME: o.podName,
      NAMESPACE: o.podNamespace,
      INSTANCE_IPS: o.instanceIp,
      NODE_NAME: o.nodeName,
      CLUSTER_ID: o.clusterId,
    }),
    types: [addressType as XdsTypeHandler<unknown>, authzType as XdsTypeHandler<unknown>],
    logger: o.logger,
  });
}
