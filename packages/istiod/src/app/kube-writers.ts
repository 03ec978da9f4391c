import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '@mesh/core';
import { RootCertPublisher } from '../ca';
import type { ConfigStore } from '../config';
import { ELECTION_NAMES, KubeRest, LeaderElector } from '../leader';
import type { StatusCondition } from '../model';
import { StatusWriter } from '../status';
import { WaypointDeployer } from '../waypoint-deploy';
import { ISTIOD_GRPC_PORT, type IstiodConfig } from './config';

export interface KubeWriters {
  /** Recompute status soon (the config store's onInvalid hook). */
  onInvalid(): void;
  /** The mesh root changed: rewrite istio-ca-root-cert in every namespace (if this replica leads). */
  rootChanged(): void;
  stop(): Promise<void>;
}

interface Controller {
  start(): void;
  stop(): void;
}

/**
 * Kubernetes-mode writes, each behind its own Lease as in Istio: the namespace controller publishes
 * istio-ca-root-cert, the status controller writes conditions. Losing a lease stops that writer at once.
 */
export function startKubeWriters(cfg: IstiodConfig, kc: KubeConfig, store: ConfigStore, rootCertPem: () => string, conditions: () => readonly StatusCondition[], log: Logger): KubeWriters {
  const rest = new KubeRest(kc);
  const identity = cfg.POD_NAME !== '' ? cfg.POD_NAME : hostname();
  const publisher = new RootCertPublisher({ rest, store, rootCertPem, logger: log.child({ component: 'istiod-root-cert' }) });
  const status = new StatusWriter({ rest, store, conditions, logger: log.child({ component: 'istiod-status' }) });
  const elect = (name: string, controller: Controller): LeaderElector => {
    const e = new LeaderElector({
      rest, namespace: cfg.ISTIO_NAMESPACE, name, identity,
      leaseDurationMs: cfg.LEADER_LEASE_DURATION, renewDeadlineMs: cfg.LEADER_RENEW_DEADLINE, retryPeriodMs: cfg.LEADER_RETRY_PERIOD,
      onStartedLeading: () => controller.start(),
      onStoppedLeading: () => controller.stop(),
      logger: log.child({ component: 'istiod-leader' }),
    });
    e.start();
    return e;
  };
  const electors = [elect(ELECTION_NAMES.NAMESPACE_CONTROLLER, publisher), elect(ELECTION_NAMES.STATUS, status)];
  const deployer = cfg.WAYPOINT_DEPLOY ? waypointDeployer(cfg, rest, store, log) : undefined;
  if (deployer) electors.push(elect(ELECTION_NAMES.GATEWAY_DEPLOYMENT, deployer));
  return {
    onInvalid: () => status.trigger(),
    rootChanged: () => publisher.rootChanged(),
    stop: async () => {
      await Promise.all(electors.map((e) => e.stop()));
      publisher.stop();
      status.stop();
      deployer?.stop();
    },
  };
}

function waypointDeployer(cfg: IstiodConfig, rest: KubeRest, store: ConfigStore, log: Logger): WaypointDeployer {
  const istiodAddress = cfg.WAYPOINT_ISTIOD_ADDRESS !== '' ? cfg.WAYPOINT_ISTIOD_ADDRESS : `istiod.${cfg.ISTIO_NAMESPACE}.svc:${cfg.GRPC_PORT === 0 ? ISTIOD_GRPC_PORT : cfg.GRPC_PORT}`;
  return new WaypointDeployer({
    rest, store, domainSuffix: cfg.DOMAIN_SUFFIX, logger: log.child({ component: 'istiod-waypoint-deploy' }),
    render: {
      image: cfg.WAYPOINT_IMAGE, imagePullPolicy: cfg.WAYPOINT_IMAGE_PULL_POLICY, istiodAddress,
      clusterId: cfg.CLUSTER_ID, trustDomain: cfg.TRUST_DOMAIN, logLevel: cfg.WAYPOINT_LOG_LEVEL,
    },
  });
}
