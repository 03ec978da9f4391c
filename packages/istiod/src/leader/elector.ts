import { createLogger, type Logger } from '@mesh/core';
import type { KubeRest } from './kube-rest';
import { leasePath, microTime, type LeaseObject, type LeaseSpec } from './lease';

/** Istio's election timings (pilot/pkg/leaderelection): a 30 s lease, renewed well inside it. */
export const LEASE_DURATION_MS = 30_000;
export const RENEW_DEADLINE_MS = 15_000;
export const RETRY_PERIOD_MS = 5_000;

/** Lease names Istio uses, one election per controller (pilot/pkg/leaderelection/leaderelection.go). */
export const ELECTION_NAMES = {
  NAMESPACE_CONTROLLER: 'istio-namespace-controller-election',
  GATEWAY_STATUS: 'istio-gateway-status-leader',
  STATUS: 'istio-status-leader',
  /** Istio's gateway deployment controller election (GatewayDeploymentController, default revision). */
  GATEWAY_DEPLOYMENT: 'istio-gateway-deployment-default',
} as const;

export interface LeaderElectorOptions {
  rest: KubeRest;
  namespace: string;
  name: string;
  /** Holder identity: the pod name in a cluster (Istio uses POD_NAME). */
  identity: string;
  leaseDurationMs?: number;
  /** A leader that cannot renew for this long stops leading (must be < leaseDurationMs). */
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  onStartedLeading?: () => void;
  onStoppedLeading?: () => void;
  logger?: Logger;
}

/**
 * client-go's leader election over a Lease: try to create or take over the Lease every retry period; a
 * foreign holder's lease counts as expired only after leaseDuration has passed on OUR clock since we last
 * saw its record change (no trust in other nodes' clocks). The leader renews every retry period and steps
 * down once renewals have failed for renewDeadline, before its lease can run out elsewhere. `stop()`
 * releases the lease (holder emptied, duration 1 s) so a standby takes over at its next retry.
 */
export class LeaderElector {
  private readonly log: Logger;
  private readonly leaseMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;
  private leading = false;
  private stopped = true;
  private timer: NodeJS.Timeout | undefined;
  private observed: { key: string; atMs: number } | undefined;
  private lastRenewMs = 0;
  private loop: Promise<void> = Promise.resolve();

  constructor(private readonly o: LeaderElectorOptions) {
    this.log = o.logger ?? createLogger({ component: 'istiod-leader' });
    this.leaseMs = o.leaseDurationMs ?? LEASE_DURATION_MS;
    this.renewDeadlineMs = o.renewDeadlineMs ?? RENEW_DEADLINE_MS;
    this.retryMs = o.retryPeriodMs ?? RETRY_PERIOD_MS;
  }

  isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops campaigning; a leader steps down and releases the lease. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.loop;
    if (!this.leading) return;
    this.setLeading(false);
    await this.release().catch((err: unknown) => this.log.warn({ err, lease: this.o.name }, 'could not release the leader lease; it expires by itself'));
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.loop = this.tick();
    }, delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    let ok = false;
    try {
      ok = await this.tryAcquireOrRenew();
    } catch (err) {
      this.log.debug({ err, lease: this.o.name }, 'lease acquire/renew failed');
    }
    if (this.stopped) return;
    const now = Date.now();
    if (ok) {
      this.lastRenewMs = now;
      if (!this.leading) this.setLeading(true);
    } else if (this.leading && now - this.lastRenewMs >= this.renewDeadlineMs) {
      this.log.warn({ lease: this.o.name }, 'lost the leader lease (renew deadline passed); stopping writes');
      this.setLeading(false);
    }
    this.schedule(this.retryMs);
  }

  private setLeading(v: boolean): void {
    this.leading = v;
    this.log.info({ lease: this.o.name, identity: this.o.identity, leading: v }, v ? 'became leader' : 'stopped leading');
    try {
      if (v) this.o.onStartedLeading?.();
      else this.o.onStoppedLeading?.();
    } catch (err) {
      this.log.error({ err, lease: this.o.name }, 'leadership callback failed');
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { rest, namespace, name, identity } = this.o;
    const now = Date.now();
    const got = await rest.call('GET', leasePath(namespace, name));
    if (got.status === 404) {
      const created = await rest.call('POST', leasePath(namespace), this.leaseObject(undefined, this.freshSpec(now, 0)));
      return created.status === 201;
    }
    if (got.status !== 200) return false;
    const lease = got.body as unknown as LeaseObject;
    const spec = lease.spec ?? {};
    const key = JSON.stringify(spec);
    if (this.observed?.key !== key) this.observed = { key, atMs: now };
    const holder = spec.holderIdentity ?? '';
    const durationMs = (spec.leaseDurationSeconds ?? 0) * 1000;
    if (holder !== '' && holder !== identity && this.observed.atMs + durationMs > now) return false;
    const next: LeaseSpec =
      holder === identity
        ? { ...spec, renewTime: microTime(now), leaseDurationSeconds: this.leaseSeconds() }
        : this.freshSpec(now, (spec.leaseTransitions ?? 0) + 1);
    // PUT with the read resourceVersion: a concurrent taker gets 409 and loses this round.
    const put = await rest.call('PUT', leasePath(namespace, name), this.leaseObject(lease.metadata.resourceVersion, next));
    return put.status === 200;
  }

  private async release(): Promise<void> {
    const { rest, namespace, name, identity } = this.o;
    const got = await rest.ok('GET', leasePath(namespace, name));
    const lease = got as unknown as LeaseObject;
    if (lease.spec?.holderIdentity !== identity) return;
    const spec: LeaseSpec = { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(Date.now()) };
    await rest.ok('PUT', leasePath(namespace, name), this.leaseObject(lease.metadata.resourceVersion, spec));
  }

  private freshSpec(nowMs: number, transitions: number): LeaseSpec {
    const t = microTime(nowMs);
    return { holderIdentity: this.o.identity, leaseDurationSeconds: this.leaseSeconds(), acquireTime: t, renewTime: t, leaseTransitions: transitions };
  }

  private leaseSeconds(): number {
    return Math.max(1, Math.ceil(this.leaseMs / 1000));
  }

  private leaseObject(resourceVersion: string | undefined, spec: LeaseSpec): LeaseObject {
    const metadata = { name: this.o.name, namespace: this.o.namespace, ...(resourceVersion === undefined ? {} : { resourceVersion }) };
    return { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata, spec };
  }
}
