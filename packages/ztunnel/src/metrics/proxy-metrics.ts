// ztunnel's stable TCP metrics (Z:src/proxy/metrics.rs) plus in-pod and xDS gauges, in one registry.
// Connection events are tallied per label set in plain numbers and handed to prom-client when the registry is
// read (each counter's collect hook): prom-client hashes and validates all 23 labels on every inc(), which cost
// ~16 us per proxied connection; a Map lookup keyed by the cached label object costs well under 1 us.
import { Counter, Gauge, type Registry } from '@mesh/core';
import { TCP_LABEL_NAMES, TcpLabelCache, type TcpLabelInput, type TcpLabels } from './labels';

export class ProxyMetrics {
  readonly opened: Counter<string>;
  readonly closed: Counter<string>;
  readonly receivedBytes: Counter<string>;
  readonly sentBytes: Counter<string>;
  readonly failed: Counter<string>;
  readonly activePods: Gauge<string>;
  readonly zdsConnected: Gauge<string>;
  readonly xdsConnected: Gauge<string>;

  /** Per workload-pair label sets: the hot path reuses one frozen object per pair instead of building 23 labels. */
  private readonly labelCache = new TcpLabelCache();
  /** Counts not yet handed to prom-client, keyed by the (cached, frozen) label object. */
  private pending = new Map<TcpLabels, PendingCounts>();
  /** Connections accepted by this proxy (opened or rejected), for the per-worker view in /config_dump. */
  private opens = 0;
  /** Data-path workers' tallies, pulled into this registry before each read (multi-worker mode). */
  private remote: (() => Promise<void>) | undefined;
  private remoteInFlight: Promise<void> | undefined;

  constructor(readonly registry: Registry) {
    const labelNames = [...TCP_LABEL_NAMES];
    const collect = (): void | Promise<void> => this.collect();
    const counter = (name: string, help: string): Counter<string> =>
      new Counter({ name, help, labelNames, registers: [registry], collect });
    this.opened = counter('istio_tcp_connections_opened_total', 'The total number of TCP connections opened');
    this.closed = counter('istio_tcp_connections_closed_total', 'The total number of TCP connections closed');
    this.receivedBytes = counter('istio_tcp_received_bytes_total', 'The size of total bytes received during request in case of a TCP connection');
    this.sentBytes = counter('istio_tcp_sent_bytes_total', 'The size of total bytes sent during response in case of a TCP connection');
    this.failed = counter('istio_tcp_connections_failed_total', 'The total number of TCP connections that failed to establish');
    this.activePods = new Gauge({ name: 'istio_inpod_active_proxy_count', help: 'Pods with in-pod listeners on this node', registers: [registry] });
    this.zdsConnected = new Gauge({ name: 'istio_inpod_zds_connected', help: '1 while connected to the CNI node agent over ZDS', registers: [registry] });
    this.xdsConnected = new Gauge({ name: 'istio_xds_connection', help: '1 while the xDS stream to istiod is up', registers: [registry] });
  }

  labels(input: TcpLabelInput): TcpLabels {
    return this.labelCache.labels(input);
  }

  get connectionsOpened(): number {
    return this.opens;
  }

  /**
   * Multi-worker mode: `pull` fetches the workers' tallies (addTallies) and runs before every registry read,
   * once per read even though five counters collect.
   */
  setRemoteSource(pull: () => Promise<void>): void {
    this.remote = pull;
  }

  connectionOpened(labels: TcpLabels): void {
    this.opens++;
    this.counts(labels).opened++;
  }

  /** Called once per connection. `received` = bytes from the client, `sent` = bytes to the client. */
  connectionClosed(labels: TcpLabels, received: number, sent: number): void {
    const c = this.counts(labels);
    c.closed++;
    c.received += received;
    c.sent += sent;
  }

  /** A connection refused before it was ever open (DENY, CONNECT failures): counted opened+closed, as ztunnel. */
  connectionRejected(labels: TcpLabels): void {
    this.opens++;
    const c = this.counts(labels);
    c.opened++;
    c.closed++;
    c.failed++;
  }

  /** Hands over and forgets the tallies not yet flushed (a worker answering the main thread's pull). */
  takeTallies(): Tally[] {
    const out: Tally[] = [];
    for (const [labels, c] of this.pending) out.push({ labels, ...c });
    this.pending = new Map();
    return out;
  }

  /** Adds tallies taken in another thread; the label objects arrive as structured clones. */
  addTallies(tallies: readonly Tally[]): void {
    for (const t of tallies) {
      if (t.opened > 0) this.opened.inc(t.labels, t.opened);
      if (t.closed > 0) this.closed.inc(t.labels, t.closed);
      if (t.received > 0) this.receivedBytes.inc(t.labels, t.received);
      if (t.sent > 0) this.sentBytes.inc(t.labels, t.sent);
      if (t.failed > 0) this.failed.inc(t.labels, t.failed);
    }
  }

  /** Hands the tallies to the prom-client counters (runs before every registry read). */
  flush(): void {
    if (this.pending.size > 0) this.addTallies(this.takeTallies());
  }

  private collect(): void | Promise<void> {
    if (this.remote === undefined) return this.flush();
    this.remoteInFlight ??= this.remote().finally(() => {
      this.remoteInFlight = undefined;
    });
    return this.remoteInFlight.then(() => this.flush());
  }

  private counts(labels: TcpLabels): PendingCounts {
    let c = this.pending.get(labels);
    if (c === undefined) {
      // Bounded even if nothing ever scrapes: label objects are cached per workload pair, so this only
      // triggers under heavy workload churn.
      if (this.pending.size >= MAX_PENDING_LABEL_SETS) this.flush();
      c = { opened: 0, closed: 0, received: 0, sent: 0, failed: 0 };
      this.pending.set(labels, c);
    }
    return c;
  }
}

/** One label set's counts, as moved between threads. */
export interface Tally extends PendingCounts {
  labels: TcpLabels;
}

interface PendingCounts {
  opened: number;
  closed: number;
  received: number;
  sent: number;
  failed: number;
}

const MAX_PENDING_LABEL_SETS = 1024;
