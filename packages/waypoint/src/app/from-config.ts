// Builds a complete waypoint from its parsed env config (what main.ts runs): CA-issued own certificate,
// delta xDS feeding the Address state and this waypoint's WaypointConfig.
import fs from 'node:fs';
import type { Logger } from '@mesh/core';
import { createCaClient } from '@mesh/identity';
import { grpcTarget, type WaypointEnv } from './config';
import { WaypointApp } from './waypoint-app';
import { createWaypointXds } from './xds';
import { RootCertUnreadableError } from './errors';

export interface ConfiguredWaypoint {
  readonly app: WaypointApp;
  stop(): Promise<void>;
}

export function waypointFromConfig(cfg: WaypointEnv, logger: Logger): ConfiguredWaypoint {
  const rootPem = readPem(cfg.ROOT_CERT, 'ROOT_CERT');
  const caTarget = grpcTarget(cfg.CA_ADDRESS, cfg.CA_SERVER_NAME);
  const xdsTarget = grpcTarget(cfg.XDS_ADDRESS, cfg.XDS_SERVER_NAME);
  // Like pilot-agent: the waypoint asks for its OWN identity, authenticated by its own token, so no
  // ImpersonatedIdentity (istiod lets only node agents such as ztunnel impersonate).
  const ca = createCaClient({
    address: caTarget.target, serverName: caTarget.serverName, rootCertPem: rootPem, tokenFile: cfg.TOKEN_FILE,
    clusterId: cfg.ISTIO_META_CLUSTER_ID, requestedTtlS: Math.floor(cfg.SECRET_TTL / 1000), impersonate: false,
  });
  const app = new WaypointApp({
    identity: { trustDomain: cfg.TRUST_DOMAIN, namespace: cfg.POD_NAMESPACE, serviceAccount: cfg.SERVICE_ACCOUNT },
    fetchCertificate: ca.createCertificate,
    listen: { host: cfg.HBONE_ADDR, port: cfg.HBONE_PORT },
    upstreamHbonePort: cfg.UPSTREAM_HBONE_PORT,
    endpoints: {
      admin: { host: cfg.ADMIN_ADDR, port: cfg.ADMIN_PORT },
      stats: { host: cfg.STATS_ADDR, port: cfg.STATS_PORT },
      readiness: { host: cfg.READINESS_ADDR, port: cfg.READINESS_PORT },
    },
    drainDeadlineMs: cfg.TERMINATION_DRAIN_DURATION,
    logger,
  });
  app.useXds(createWaypointXds({
    target: xdsTarget.target, serverName: xdsTarget.serverName, rootCertPem: rootPem, tokenFile: cfg.TOKEN_FILE,
    clusterId: cfg.ISTIO_META_CLUSTER_ID, instanceIp: cfg.INSTANCE_IP, podName: cfg.POD_NAME, podNamespace: cfg.POD_NAMESPACE,
    configName: `${cfg.POD_NAMESPACE}/${cfg.WAYPOINT_NAME}`, logger: logger.child({ component: 'xds' }),
  }, { applyAddresses: (u, r) => app.upstream.applyAddresses(u, r), setConfig: (c) => app.setConfig(c) }));
  return {
    app,
    stop: async () => {
      await app.stop();
      ca.close();
    },
  };
}

function readPem(file: string, variable: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new RootCertUnreadableError({ variable, file, reason: (err as Error).message }, { cause: err });
  }
}
