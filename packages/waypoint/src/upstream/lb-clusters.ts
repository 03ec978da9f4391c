// Per upstream cluster (host, subset, port: Envoy's outbound|port|subset|host) state the DestinationRule
// traffic policy drives: the endpoint picker, outlier detection, connection pool limits and in-flight counts.
// A cluster is rebuilt when its TrafficPolicy changes (a config push), as Envoy replaces the cluster.
import type { waypoint } from '@mesh/api';
import { EndpointPicker, endpointKey, lbPolicyOf, type PickInput } from './lb';
import type { UpstreamTransport } from './direct';
import type { Endpoint } from './mesh-state';
import { OutlierDetector, type UpstreamOutcome } from './outlier';
import { ConnectionPoolLimiter } from './pool';

export type TrafficPolicyLookup = (host: string, subset: string, port: number) => waypoint.TrafficPolicy | undefined;

export class UpstreamCluster implements UpstreamTransport {
  readonly picker: EndpointPicker;
  readonly outlier: OutlierDetector | undefined;
  readonly limiter: ConnectionPoolLimiter;
  private readonly activeByEndpoint = new Map<string, number>();
  private readonly active = (ep: Endpoint): number => this.activeByEndpoint.get(endpointKey(ep)) ?? 0;
  private lastKeys: readonly string[] = [];
  private lastEndpoints: readonly Endpoint[] | undefined;
  private retriesInFlight = 0;

  constructor(readonly name: string, readonly host: string, readonly policy: waypoint.TrafficPolicy | undefined, now: () => number) {
    this.picker = new EndpointPicker(lbPolicyOf(policy?.loadBalancer));
    this.outlier = policy?.outlierDetection === undefined ? undefined : new OutlierDetector(policy.outlierDetection, now);
    this.limiter = new ConnectionPoolLimiter(policy?.connectionPool);
  }

  /** DestinationRule trafficPolicy.tls (for the cluster's non-HBONE endpoints). */
  get tls(): waypoint.UpstreamTls | undefined {
    return this.policy?.tls;
  }

  get source(): string | undefined {
    const s = this.policy?.source;
    return s === undefined ? undefined : `${s.kind} ${s.namespace}/${s.name}`;
  }

  get connectTimeoutMs(): number {
    return this.policy?.connectionPool?.connectTimeoutMs ?? 0;
  }

  get maxRequestsPerConnection(): number {
    return this.policy?.connectionPool?.maxRequestsPerConnection ?? 0;
  }

  /** LB over the endpoints the outlier detector leaves; undefined = no healthy upstream. */
  pick(eps: readonly Endpoint[], input: Omit<PickInput, 'active'>): Endpoint | undefined {
    // Endpoint lists are cached per (service, port, subset): their keys are computed once per list.
    if (eps !== this.lastEndpoints) {
      this.lastKeys = eps.map(endpointKey);
      this.lastEndpoints = eps;
    }
    const usable = this.outlier === undefined ? eps : this.outlier.filter(eps, endpointKey);
    if (usable.length <= 1) return usable[0];
    return this.picker.pick(usable, { ...input, active: this.active });
  }

  /** Counts an in-flight try on `ep`; the returned function ends it (LEAST_REQUEST input). */
  started(ep: Endpoint): () => void {
    const k = endpointKey(ep);
    this.activeByEndpoint.set(k, (this.activeByEndpoint.get(k) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const n = (this.activeByEndpoint.get(k) ?? 1) - 1;
      if (n <= 0) this.activeByEndpoint.delete(k);
      else this.activeByEndpoint.set(k, n);
    };
  }

  /** A slot under connectionPool maxRetries (concurrent retries in the cluster), or undefined when full. */
  startRetry(): (() => void) | undefined {
    const max = this.policy?.connectionPool?.maxRetries ?? 0;
    if (max > 0 && this.retriesInFlight >= max) return undefined;
    this.retriesInFlight++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.retriesInFlight--;
    };
  }

  get activeRetries(): number {
    return this.retriesInFlight;
  }

  report(ep: Endpoint, outcome: UpstreamOutcome): void {
    this.outlier?.report(endpointKey(ep), outcome, this.lastKeys);
  }
}

export interface ClusterSnapshot {
  readonly name: string;
  readonly lb: string;
  readonly inFlight: number;
  readonly pending: number;
  readonly retriesInFlight: number;
  readonly ejected: readonly string[];
}

export class UpstreamClusters {
  private readonly clusters = new Map<string, UpstreamCluster>();

  constructor(private readonly lookup: TrafficPolicyLookup, private readonly now: () => number = Date.now) {}

  /** Operator view of every cluster used so far (admin config dump). */
  snapshot(): ClusterSnapshot[] {
    return [...this.clusters.values()].map((c) => ({
      name: c.name, lb: c.picker.policy, inFlight: c.limiter.inFlight, pending: c.limiter.queued,
      retriesInFlight: c.activeRetries, ejected: c.outlier?.ejectedKeys() ?? [],
    }));
  }

  get(host: string, subset: string, port: number): UpstreamCluster {
    const name = `outbound|${port}|${subset}|${host}`;
    const policy = this.lookup(host, subset, port);
    let c = this.clusters.get(name);
    if (c === undefined || c.policy !== policy) {
      c = new UpstreamCluster(name, host, policy, this.now);
      this.clusters.set(name, c);
    }
    return c;
  }
}
