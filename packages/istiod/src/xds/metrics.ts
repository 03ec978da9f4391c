import { Counter, Gauge, Histogram, type Registry } from '@mesh/core';

/** Istio pilot's xDS metric names (pilot/pkg/xds/monitoring.go). */
export interface XdsMetrics {
  readonly clients: Gauge<'version' | 'type'>;
  readonly pushes: Counter<'type'>;
  readonly pushTimeSeconds: Histogram<'type'>;
  readonly configSizeBytes: Histogram<'type'>;
  readonly rejects: Counter<'type'>;
  /** The per-push series of one type URL, label lookups done once (prom-client hashes labels per call). */
  forType(typeUrl: string): TypeMetrics;
}

export interface TypeMetrics {
  readonly pushes: { inc(): void };
  readonly pushTimeSeconds: { observe(value: number): void };
  readonly configSizeBytes: { observe(value: number): void };
}

const PUSH_TIME_BUCKETS_S = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 3, 5, 10];
const CONFIG_SIZE_BUCKETS_BYTES = [1, 10_000, 1_000_000, 4_000_000, 10_000_000, 40_000_000];

export function createXdsMetrics(registry: Registry): XdsMetrics {
  const registers = [registry];
  const byType = new Map<string, TypeMetrics>();
  const m = {
    clients: new Gauge({
      name: 'pilot_xds',
      help: 'Number of endpoints connected to this pilot using XDS (type = proxy node type).',
      labelNames: ['version', 'type'],
      registers,
    }),
    pushes: new Counter({ name: 'pilot_xds_pushes', help: 'Number of xDS responses written to clients, by resource type.', labelNames: ['type'], registers }),
    pushTimeSeconds: new Histogram({
      name: 'pilot_xds_push_time',
      help: 'Seconds from the first coalesced change (or request) to the response being written, by resource type.',
      labelNames: ['type'],
      buckets: PUSH_TIME_BUCKETS_S,
      registers,
    }),
    configSizeBytes: new Histogram({
      name: 'pilot_xds_config_size_bytes',
      help: 'Distribution of configuration sizes pushed to clients',
      labelNames: ['type'],
      buckets: CONFIG_SIZE_BUCKETS_BYTES,
      registers,
    }),
    rejects: new Counter({ name: 'pilot_total_xds_rejects', help: 'Total number of XDS responses from pilot rejected by proxy.', labelNames: ['type'], registers }),
  };
  const forType = (typeUrl: string): TypeMetrics => {
    let t = byType.get(typeUrl);
    if (t === undefined) {
      const labels = { type: metricType(typeUrl) };
      t = { pushes: m.pushes.labels(labels), pushTimeSeconds: m.pushTimeSeconds.labels(labels), configSizeBytes: m.configSizeBytes.labels(labels) };
      byType.set(typeUrl, t);
    }
    return t;
  };
  return { ...m, forType };
}

/** Short metric label for a type URL: `type.googleapis.com/istio.workload.Address` -> `address`. */
export function metricType(typeUrl: string): string {
  return typeUrl.slice(typeUrl.lastIndexOf('.') + 1).toLowerCase();
}
