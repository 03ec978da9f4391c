import { isDeepStrictEqual } from 'node:util';
import { GATEWAY_CLASS, type Gateway } from '@mesh/api';
import { createLogger, type Logger } from '@mesh/core';
import type { AnyConfigEvent, ConfigStore } from '../config';
import { KeyedQueue, type KubeRest } from '../leader';
import { renderWaypoint, waypointDeploymentName, type KubeManifest, type WaypointDeployOptions } from './render';

/** The field manager Istio's deployment controller applies with (constants.ManagedGatewayController). */
export const WAYPOINT_FIELD_MANAGER = 'istio.io/gateway-controller';
/** Re-apply every waypoint this often, so a deleted or hand-edited Deployment/Service comes back. */
export const WAYPOINT_RESYNC_INTERVAL_MS = 60_000;

export interface WaypointDeployerOptions {
  rest: KubeRest;
  store: ConfigStore;
  render: WaypointDeployOptions;
  /** Kubernetes DNS suffix, for the Hostname address written to the Gateway status. */
  domainSuffix: string;
  minIntervalMs?: number;
  resyncIntervalMs?: number;
  logger?: Logger;
}

const GATEWAY_KEY = 'gateway.networking.k8s.io/Gateway';

function collectionPath(m: KubeManifest): string {
  const ns = encodeURIComponent(m.metadata.namespace);
  const name = encodeURIComponent(m.metadata.name);
  switch (m.kind) {
    case 'Deployment': return `/apis/apps/v1/namespaces/${ns}/deployments/${name}`;
    case 'Service': return `/api/v1/namespaces/${ns}/services/${name}`;
    default: return `/api/v1/namespaces/${ns}/serviceaccounts/${name}`;
  }
}

const gatewayStatusPath = (ns: string, name: string): string =>
  `/apis/gateway.networking.k8s.io/v1/namespaces/${encodeURIComponent(ns)}/gateways/${encodeURIComponent(name)}/status`;

/**
 * Istio's gateway deployment controller for waypoints, in Kubernetes mode and only while holding its Lease:
 * every Gateway of class istio-waypoint gets a ServiceAccount, Deployment and Service (server-side apply, so
 * fields other managers own, like an HPA's replicas, are left alone), and once the Service has a cluster IP
 * the Gateway's status.addresses gets the Service hostname, which WDS then hands to ztunnel. The objects
 * carry an ownerReference to the Gateway: deleting the Gateway lets Kubernetes garbage-collect them.
 */
export class WaypointDeployer {
  private readonly log: Logger;
  private queue: KeyedQueue | undefined;
  private unsubscribe: (() => void) | undefined;
  private resync: NodeJS.Timeout | undefined;

  constructor(private readonly o: WaypointDeployerOptions) {
    this.log = o.logger ?? createLogger({ component: 'istiod-waypoint-deploy' });
  }

  start(): void {
    if (this.queue) return;
    const queue = new KeyedQueue({ handle: (key, run) => this.reconcile(key, run), logger: this.log, ...(this.o.minIntervalMs === undefined ? {} : { minIntervalMs: this.o.minIntervalMs }) });
    this.queue = queue;
    this.unsubscribe = this.o.store.subscribe((e) => this.onEvent(queue, e));
    this.resync = setInterval(() => this.enqueueAll(), this.o.resyncIntervalMs ?? WAYPOINT_RESYNC_INTERVAL_MS);
    this.resync.unref();
    this.enqueueAll();
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.resync) clearInterval(this.resync);
    this.resync = undefined;
    this.queue?.stop();
    this.queue = undefined;
  }

  idle(): Promise<void> {
    return this.queue?.idle() ?? Promise.resolve();
  }

  private enqueueAll(): void {
    for (const gw of this.o.store.list(GATEWAY_KEY)) this.queue?.add(`${gw.metadata.namespace ?? ''}/${gw.metadata.name}`);
  }

  private onEvent(queue: KeyedQueue, e: AnyConfigEvent): void {
    if (e.kind === GATEWAY_KEY && e.type !== 'delete') queue.add(`${e.namespace}/${e.name}`);
    // The Service's cluster IP decides the status address: find the waypoint Gateway it belongs to.
    if (e.kind === 'Service') {
      for (const gw of this.o.store.list(GATEWAY_KEY)) {
        if ((gw.metadata.namespace ?? '') === e.namespace && waypointDeploymentName(gw) === e.name) queue.add(`${e.namespace}/${gw.metadata.name}`);
      }
    }
  }

  /** Writes stop as soon as `run` is stopped (leadership lost), also between the objects of one Gateway. */
  private async reconcile(key: string, run: { readonly stopped: boolean }): Promise<void> {
    const i = key.indexOf('/');
    const gw = this.o.store.get(GATEWAY_KEY, key.slice(0, i), key.slice(i + 1));
    if (gw === undefined || gw.spec.gatewayClassName !== GATEWAY_CLASS.WAYPOINT || gw.metadata.deletionTimestamp !== undefined) return;
    if (gw.metadata.uid === undefined) {
      this.log.warn({ gateway: key }, 'waypoint Gateway has no uid; cannot own its Deployment (is the config source Kubernetes?)');
      return;
    }
    const objs = renderWaypoint(gw, this.o.render);
    for (const m of [objs.serviceAccount, objs.deployment, objs.service]) {
      if (run.stopped) return;
      await this.apply(m);
    }
    if (!run.stopped) await this.writeAddress(gw);
  }

  private async apply(m: KubeManifest): Promise<void> {
    const path = `${collectionPath(m)}?fieldManager=${encodeURIComponent(WAYPOINT_FIELD_MANAGER)}&force=true`;
    const reply = await this.o.rest.call('PATCH', path, m, 'application/apply-patch+yaml');
    if (reply.status < 200 || reply.status > 299) await this.o.rest.ok('PATCH', path, m, 'application/apply-patch+yaml');
    if (reply.status === 201) this.log.info({ kind: m.kind, namespace: m.metadata.namespace, name: m.metadata.name }, 'created waypoint object');
  }

  /** Hostname address once the Service is ready; never removed afterwards (Istio's rule for gateway addresses). */
  private async writeAddress(gw: Gateway): Promise<void> {
    const ns = gw.metadata.namespace ?? '';
    const name = waypointDeploymentName(gw);
    const ip = this.o.store.get('Service', ns, name)?.spec?.clusterIP;
    if (ip === undefined || ip === '' || ip === 'None') return;
    const addresses = [{ type: 'Hostname', value: `${name}.${ns}.svc.${this.o.domainSuffix}` }];
    if (isDeepStrictEqual(gw.status?.addresses, addresses)) return;
    await this.o.rest.ok('PATCH', gatewayStatusPath(ns, gw.metadata.name), { status: { addresses } }, 'application/merge-patch+json');
    this.log.info({ gateway: `${ns}/${gw.metadata.name}`, address: addresses[0]?.value }, 'waypoint Gateway address published');
  }
}
