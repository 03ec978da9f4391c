// xDS for the waypoint: delta ADS subscribing istio.workload.Address (endpoints and identities) and this
// project's mesh.waypoint.v1.WaypointConfig, keeping only the resource "<namespace>/<gateway name>".
import { ADDRESS_TYPE_URL, unpackAddress, unpackWaypointConfig, WAYPOINT_CONFIG_TYPE_URL, type Address, type WaypointConfig } from '@mesh/api';
import type { Logger } from '@mesh/core';
import {
  DeltaXdsClient, proxyNode, proxyNodeId, xdsConnectionOptions, type ProxyNodeIdentity, type XdsConnectionConfig, type XdsTypeHandler,
  type XdsUpdate,
} from '@mesh/xds-client';

export interface WaypointXdsSink {
  applyAddresses(updates: readonly { name: string; resource: Address }[], removed: readonly string[]): void;
  setConfig(config: WaypointConfig | undefined): void;
}

/** Connection (root cert, server name, token file, clusterid, `insecure` for tests) and pod identity, plus: */
export interface WaypointXdsOptions extends Omit<XdsConnectionConfig, 'address'>, ProxyNodeIdentity {
  /** istiod's xDS `host:port`. */
  target: string;
  /** "<namespace>/<name>" of this waypoint's Gateway. */
  configName: string;
  logger: Logger;
}

/** Istio's node id for a waypoint proxy (router type, as `proxy waypoint` runs). */
export function waypointNodeId(o: Pick<WaypointXdsOptions, 'instanceIp' | 'podName' | 'podNamespace'>): string {
  return proxyNodeId('waypoint', o);
}

export function createWaypointXds(o: WaypointXdsOptions, sink: WaypointXdsSink): DeltaXdsClient {
  const addressType: XdsTypeHandler<Address> = {
    typeUrl: ADDRESS_TYPE_URL,
    decode: unpackAddress,
    apply: (u: readonly XdsUpdate<Address>[], removed) => sink.applyAddresses(u, removed),
  };
  const configType: XdsTypeHandler<WaypointConfig> = {
    typeUrl: WAYPOINT_CONFIG_TYPE_URL,
    decode: unpackWaypointConfig,
    apply: (u: readonly XdsUpdate<WaypointConfig>[], removed) => {
      const mine = u.find((x) => x.name === o.configName);
      if (mine !== undefined) sink.setConfig(mine.resource);
      else if (removed.includes(o.configName)) sink.setConfig(undefined);
    },
  };
  return new DeltaXdsClient({
    ...xdsConnectionOptions({ ...o, address: o.target }),
    node: proxyNode(waypointNodeId(o), {
      NAME: o.podName,
      NAMESPACE: o.podNamespace,
      INSTANCE_IPS: o.instanceIp,
      CLUSTER_ID: o.clusterId,
    }),
    types: [addressType as XdsTypeHandler<unknown>, configType as XdsTypeHandler<unknown>],
    logger: o.logger,
  });
}
