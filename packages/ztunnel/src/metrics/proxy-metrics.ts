// ztunnel's stable TCP metrics (Z:src/proxy/metrics.rs) plus in-pod and xDS gauges, in one registry.
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

  constructor(readonly registry: Registry) {
    const labelNames = [...TCP_LABEL_NAMES];
    const counter = (name: string, help: string): Counter<string> =>
      new Counter({ name, help, labelNames, registers: [registry] });
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

  connectionOpened(labels: TcpLabels): void {
    this.opened.inc(labels);
  }

  /** Called once per connection. `received` = bytes from the client, `sent` = bytes to the client. */
  connectionClosed(labels: TcpLabels, received: number, sent: number): void {
    this.closed.inc(labels);
    if (received > 0) this.receivedBytes.inc(labels, received);
    if (sent > 0) this.sentBytes.inc(labels, sent);
  }

  /** A connection refused before it was ever open (DENY, CONNECT failures): counted opened+closed, as ztunnel. */
  connectionRejected(labels: TcpLabels): void {
    this.opened.inc(labels);
    this.closed.inc(labels);
    this.failed.inc(labels);
  }
}
