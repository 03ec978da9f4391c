// xDS for the waypoint: delta ADS subscribing istio.workload.Address (endpoints and identities) and this
// project's mesh.waypoint.v1.WaypointConfig, keeping only the resource "<namespace>/<gateway name>".
import { credentials as grpcCredentials } from '@grpc/grpc-js';
import { ADDRESS_TYPE_URL, unpackAddress, unpackWaypointConfig, WAYPOINT_CONFIG_TYPE_URL, type Address, type WaypointConfig } from '@mesh/api';
import type { Logger } from '@mesh/core';
import { DeltaXdsClient, type XdsTypeHandler, type XdsUpdate } from '@mesh/xds-client';
import { readToken } from './ca';

export interface WaypointXdsSink {
  applyAddresses(updates: readonly { name: string; resource: Address }[], removed: readonly string[]): void;
  setConfig(config: WaypointConfig | undefined): void;
}

export interface WaypointXdsOptions {
  target: string;
  serverName: string;
  rootCertPem: Buffer;
  tokenFile: string;
  clusterId: string;
  instanceIp: string;
  podName: string;
  podNamespace: string;
  /** "<namespace>/<name>" of this waypoint's Gateway. */
  configName: string;
  logger: Logger;
  insecure?: boolean;
}

/** Istio's node id for a waypoint proxy (router type, as `proxy waypoint` runs). */
export function waypointNodeId(o: Pick<WaypointXdsOptions, 'instanceIp' | 'podName' | 'podNamespace'>): string {
  return `waypoint~${o.instanceIp}~${o.podName}.${o.podNamespace}~${o.podNamespace}.svc.cluster.local`;
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
    address: o.target,
    credentials: o.insecure ? grpcCredentials.createInsecure() : grpcCredentials.createSsl(o.rootCertPem),
    channelOptions: o.insecure ? {} : { 'grpc.ssl_target_name_override': o.serverName, 'grpc.default_authority': o.serverName },
    metadata: (): Record<string, string> => {
      const token = readToken(o.tokenFile);
      return token ? { authorization: `Bearer ${token}`, clusterid: o.clusterId } : { clusterid: o.clusterId };
    },
    node: {
      id: waypointNodeId(o),
      metadata: {
        fields: {
          NAME: { kind: { case: 'stringValue', value: o.podName } },
          NAMESPACE: { kind: { case: 'stringValue', value: o.podNamespace } },
          INSTANCE_IPS: { kind: { case: 'stringValue', value: o.instanceIp } },
          CLUSTER_ID: { kind: { case: 'stringValue', value: o.clusterId } },
        },
      },
    },
    types: [addressType as XdsTypeHandler<unknown>, configType as XdsTypeHandler<unknown>],
    logger: o.logger,
  });
}
