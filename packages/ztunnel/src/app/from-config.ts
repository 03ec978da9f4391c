// Builds a complete ztunnel from its parsed env config (what main.ts runs, and what tests start in-process):
// MeshState fed by delta xDS, the real outbound decision / inbound checks / RBAC, CA-backed certificates.
import fs from 'node:fs';
import { AuthorizationSchema, toJson, workload, WorkloadSchema } from '@mesh/api';
import type { Logger } from '@mesh/core';
import { createCaClient } from '@mesh/identity';
import { MeshState } from '../state/index';
import { grpcTarget, type ZtunnelConfig } from './config';
import { meshAuthorizer, meshDecider, meshInboundResolver } from './decisions';
import { RootCertUnreadableError, WorkerThreadsNeedPortReuseError } from './errors';
import { StateFanout } from '../worker/index';
import { createXdsClient } from './xds';
import { ZtunnelApp } from './ztunnel-app';

export interface ConfiguredZtunnel {
  readonly app: ZtunnelApp;
  readonly state: MeshState;
  /** Drain and stop everything, including the CA client. */
  stop(): Promise<void>;
}

/** `onFatal`: a data-path worker died (multi-worker mode); main.ts exits non-zero. */
export function ztunnelFromConfig(cfg: ZtunnelConfig, logger: Logger, onExit?: () => void, onFatal?: (err: Error) => void): ConfiguredZtunnel {
  const rootPem = readPem(cfg.ROOT_CERT, 'ROOT_CERT');
  const state = new MeshState();
  const workerCount = cfg.ZTUNNEL_WORKER_THREADS;
  if (workerCount > 1 && !cfg.INPOD_PORT_REUSE) throw new WorkerThreadsNeedPortReuseError({ workers: workerCount });
  const fanout = workerCount > 1 ? new StateFanout(state) : undefined;
  const xdsTarget = grpcTarget(cfg.XDS_ADDRESS, cfg.XDS_SERVER_NAME);
  const caTarget = grpcTarget(cfg.CA_ADDRESS, cfg.CA_SERVER_NAME);
  // Z:src/identity/caclient.rs: ztunnel impersonates each pod's identity (ImpersonatedIdentity).
  const ca = createCaClient({
    address: caTarget.target, serverName: caTarget.serverName, rootCertPem: rootPem, tokenFile: cfg.TOKEN_FILE,
    clusterId: cfg.ISTIO_META_CLUSTER_ID, requestedTtlS: Math.floor(cfg.SECRET_TTL / 1000), impersonate: true,
  });
  const xds = createXdsClient({
    target: xdsTarget.target, serverName: xdsTarget.serverName,
    rootCertPem: cfg.XDS_ROOT_CA ? readPem(cfg.XDS_ROOT_CA, 'XDS_ROOT_CA') : rootPem, tokenFile: cfg.TOKEN_FILE,
    clusterId: cfg.ISTIO_META_CLUSTER_ID, instanceIp: cfg.INSTANCE_IP, podName: cfg.POD_NAME, podNamespace: cfg.POD_NAMESPACE,
    nodeName: cfg.NODE_NAME, logger: logger.child({ component: 'xds' }),
  }, fanout ?? state);
  const app = new ZtunnelApp({
    state, xds, logger,
    decide: meshDecider(state),
    resolveInbound: meshInboundResolver(state),
    authorize: meshAuthorizer(state),
    fetchCertificate: ca.createCertificate,
    zdsPath: cfg.INPOD_UDS, trustDomain: cfg.TRUST_DOMAIN, network: cfg.NETWORK, nodeName: cfg.NODE_NAME,
    packetMark: cfg.PACKET_MARK, portReuse: cfg.INPOD_PORT_REUSE, ipv6Enabled: cfg.IPV6_ENABLED,
    drainDeadlineMs: cfg.CONNECTION_TERMINATION_DEADLINE,
    endpoints: {
      admin: { host: cfg.ADMIN_ADDR, port: cfg.ADMIN_PORT },
      stats: { host: cfg.STATS_ADDR, port: cfg.STATS_PORT },
      readiness: { host: cfg.READINESS_ADDR, port: cfg.READINESS_PORT },
    },
    dumpState: () => dumpState(state),
    ...(onExit ? { onExit } : {}),
    ...(fanout ? { workers: { count: workerCount, fanout, ...(onFatal ? { onFatal } : {}) } } : {}),
  });
  return {
    app, state,
    stop: async () => {
      await app.stop();
      ca.close();
    },
  };
}

/** The xDS part of /config_dump, in the proto JSON shapes istioctl ztunnel-config reads. */
export function dumpState(state: MeshState): Record<string, unknown> {
  return {
    workloads: [...state.allWorkloads()].map((w) => toJson(WorkloadSchema, w)),
    services: [...state.allServices()].map((s) => toJson(workload.ServiceSchema, s)),
    policies: [...state.policies.values()].map((p) => toJson(AuthorizationSchema, p)),
  };
}

function readPem(file: string, variable: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new RootCertUnreadableError({ variable, file, reason: (err as Error).message }, { cause: err });
  }
}
