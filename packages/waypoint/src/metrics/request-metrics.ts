// Istio's standard request metrics as the waypoint reports them (Envoy + Istio stats filter):
// istio_requests_total, istio_request_duration_milliseconds, istio_request_bytes, istio_response_bytes and, for
// gRPC requests only, istio_request_messages_total / istio_response_messages_total (gRPC messages sent by the
// client / the server, streaming included, added when the stream ends), all with the same labels:
// reporter="waypoint" and connection_security_policy="mutual_tls"; missing values are "unknown".
import type { Registry } from '@mesh/core';
import { LabelledCounter, LabelledHistogram } from './labelled';

export const REQUEST_LABELS = [
  'reporter', 'source_workload', 'source_canonical_service', 'source_canonical_revision', 'source_workload_namespace',
  'source_principal', 'source_app', 'source_version', 'source_cluster',
  'destination_service', 'destination_service_namespace', 'destination_service_name',
  'destination_workload', 'destination_canonical_service', 'destination_canonical_revision',
  'destination_workload_namespace', 'destination_principal', 'destination_app', 'destination_version',
  'destination_cluster', 'request_protocol', 'response_code', 'grpc_response_status', 'response_flags',
  'connection_security_policy',
] as const;

export type RequestLabelName = (typeof REQUEST_LABELS)[number];
export type RequestLabels = Record<RequestLabelName, string>;

/** Istio's default duration buckets (ms). */
export const DURATION_BUCKETS_MS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];
/** Istio's default byte-size buckets. */
export const SIZE_BUCKETS_BYTES = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000];

export const UNKNOWN = 'unknown';

export interface PeerFacts {
  workload?: string;
  namespace?: string;
  canonicalService?: string;
  canonicalRevision?: string;
  principal?: string;
  cluster?: string;
}

export interface RequestRecord {
  source: PeerFacts;
  destination: PeerFacts & { service?: string; serviceName?: string; serviceNamespace?: string };
  protocol: 'http' | 'grpc';
  responseCode: number;
  grpcStatus?: number;
  /** Envoy response flags ("-" when none): UH no healthy upstream, UF connect failure, UT timeout, DC ... */
  responseFlags: string;
  durationMs: number;
  requestBytes: number;
  responseBytes: number;
  /** gRPC messages the client sent (set for gRPC content types only; then the message counters are recorded). */
  requestMessages?: number;
  /** gRPC messages the server sent. */
  responseMessages?: number;
}

const u = (v: string | undefined): string => (v === undefined || v === '' ? UNKNOWN : v);

export function requestLabels(r: RequestRecord): RequestLabels {
  const s = r.source;
  const d = r.destination;
  return {
    reporter: 'waypoint',
    source_workload: u(s.workload),
    source_canonical_service: u(s.canonicalService ?? s.workload),
    source_canonical_revision: u(s.canonicalRevision || 'latest'),
    source_workload_namespace: u(s.namespace),
    source_principal: u(s.principal),
    source_app: u(s.canonicalService),
    source_version: u(s.canonicalRevision),
    source_cluster: u(s.cluster),
    destination_service: u(d.service),
    destination_service_namespace: u(d.serviceNamespace),
    destination_service_name: u(d.serviceName),
    destination_workload: u(d.workload),
    destination_canonical_service: u(d.canonicalService ?? d.workload),
    destination_canonical_revision: u(d.canonicalRevision || (d.workload ? 'latest' : undefined)),
    destination_workload_namespace: u(d.namespace),
    destination_principal: u(d.principal),
    destination_app: u(d.canonicalService),
    destination_version: u(d.canonicalRevision),
    destination_cluster: u(d.cluster),
    request_protocol: r.protocol,
    response_code: String(r.responseCode),
    grpc_response_status: r.grpcStatus === undefined ? '' : String(r.grpcStatus),
    response_flags: r.responseFlags || '-',
    connection_security_policy: 'mutual_tls',
  };
}

/** One string per label set: label values never contain NUL. */
function seriesKey(l: RequestLabels): string {
  let k = '';
  for (const name of REQUEST_LABELS) k += `${l[name]}\u0000`;
  return k;
}

/** Raw-facts keys cached; beyond this the cache starts over (label sets are few in practice). */
const SERIES_CACHE_MAX = 10_000;

/** The facts that decide a request's labels, as one string (cheaper than building the 25 labels per request). */
function factsKey(r: RequestRecord): string {
  const s = r.source;
  const d = r.destination;
  return `${s.workload}\0${s.namespace}\0${s.canonicalService}\0${s.canonicalRevision}\0${s.principal}\0${s.cluster}\0${d.service}\0${d.serviceNamespace}\0${d.serviceName}\0${d.workload}\0${d.namespace}\0${d.canonicalService}\0${d.canonicalRevision}\0${d.principal}\0${d.cluster}\0${r.protocol}\0${r.responseCode}\0${r.grpcStatus}\0${r.responseFlags}`;
}

interface Series {
  readonly key: string;
  readonly labels: RequestLabels;
}

export class RequestMetrics {
  private readonly seriesByFacts = new Map<string, Series>();
  readonly requests: LabelledCounter;
  readonly duration: LabelledHistogram;
  readonly requestBytes: LabelledHistogram;
  readonly responseBytes: LabelledHistogram;
  readonly requestMessages: LabelledCounter;
  readonly responseMessages: LabelledCounter;

  constructor(registry: Registry) {
    this.requests = new LabelledCounter('istio_requests_total', 'Requests handled by the waypoint', registry);
    this.duration = new LabelledHistogram('istio_request_duration_milliseconds', 'Request duration', DURATION_BUCKETS_MS, registry);
    this.requestBytes = new LabelledHistogram('istio_request_bytes', 'Request body sizes', SIZE_BUCKETS_BYTES, registry);
    this.responseBytes = new LabelledHistogram('istio_response_bytes', 'Response body sizes', SIZE_BUCKETS_BYTES, registry);
    this.requestMessages = new LabelledCounter('istio_request_messages_total', 'gRPC messages sent by clients', registry);
    this.responseMessages = new LabelledCounter('istio_response_messages_total', 'gRPC messages sent by servers', registry);
  }

  record(r: RequestRecord): void {
    const { key, labels } = this.seriesOf(r);
    this.requests.inc(key, labels);
    this.duration.observe(key, labels, r.durationMs);
    this.requestBytes.observe(key, labels, r.requestBytes);
    this.responseBytes.observe(key, labels, r.responseBytes);
    if (r.requestMessages !== undefined) {
      this.requestMessages.inc(key, labels, r.requestMessages);
      this.responseMessages.inc(key, labels, r.responseMessages ?? 0);
    }
  }

  private seriesOf(r: RequestRecord): Series {
    const facts = factsKey(r);
    let s = this.seriesByFacts.get(facts);
    if (s === undefined) {
      const labels = requestLabels(r);
      s = { key: seriesKey(labels), labels };
      if (this.seriesByFacts.size >= SERIES_CACHE_MAX) this.seriesByFacts.clear();
      this.seriesByFacts.set(facts, s);
    }
    return s;
  }
}
