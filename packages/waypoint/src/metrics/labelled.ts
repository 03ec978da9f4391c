// Counter and histogram families keyed by a precomputed label-set key, rendered by the prom-client Registry at
// scrape time. prom-client's own observe() re-validates and re-hashes every label on every call (25 labels x
// 4 metrics per request was ~9% of the waypoint's CPU); a request's label set is built once here and its
// series found by one Map lookup, as Envoy's stats store interns its stat names.
import type { Registry } from '@mesh/core';

type Labels = Readonly<Record<string, string>>;

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

interface MetricSnapshot {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  values: MetricValue[];
  aggregator: 'sum';
}

/** The shape prom-client's Registry renders (registerMetric only calls name, get() and reset()). */
interface RegistrableMetric {
  readonly name: string;
  readonly help: string;
  get(): Promise<MetricSnapshot>;
  reset(): void;
}

function register(registry: Registry, metric: RegistrableMetric): void {
  // prom-client types registerMetric for its own classes only; the Registry itself needs just get()/name.
  (registry as unknown as { registerMetric(m: RegistrableMetric): void }).registerMetric(metric);
}

interface CounterSeries {
  labels: Labels;
  value: number;
}

export class LabelledCounter implements RegistrableMetric {
  private readonly series = new Map<string, CounterSeries>();

  constructor(readonly name: string, readonly help: string, registry: Registry) {
    register(registry, this);
  }

  inc(key: string, labels: Labels, by = 1): void {
    const s = this.series.get(key);
    if (s !== undefined) s.value += by;
    else this.series.set(key, { labels, value: by });
  }

  get(): Promise<MetricSnapshot> {
    const values = [...this.series.values()].map((s) => ({ labels: { ...s.labels }, value: s.value }));
    return Promise.resolve({ name: this.name, help: this.help, type: 'counter', values, aggregator: 'sum' });
  }

  reset(): void {
    this.series.clear();
  }
}

interface HistogramSeries {
  labels: Labels;
  /** Non-cumulative counts per bucket; the last slot is +Inf. */
  counts: Float64Array;
  sum: number;
  count: number;
}

export class LabelledHistogram implements RegistrableMetric {
  private readonly series = new Map<string, HistogramSeries>();

  constructor(readonly name: string, readonly help: string, private readonly buckets: readonly number[], registry: Registry) {
    register(registry, this);
  }

  observe(key: string, labels: Labels, value: number): void {
    let s = this.series.get(key);
    if (s === undefined) {
      s = { labels, counts: new Float64Array(this.buckets.length + 1), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    let i = 0;
    while (i < this.buckets.length && value > this.buckets[i]!) i++;
    s.counts[i]! += 1;
    s.sum += value;
    s.count += 1;
  }

  get(): Promise<MetricSnapshot> {
    const values: MetricValue[] = [];
    for (const s of this.series.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.buckets.length; i++) {
        cumulative += s.counts[i]!;
        values.push({ labels: { ...s.labels, le: this.buckets[i]! }, value: cumulative, metricName: `${this.name}_bucket` });
      }
      values.push({ labels: { ...s.labels, le: '+Inf' }, value: s.count, metricName: `${this.name}_bucket` });
      values.push({ labels: { ...s.labels }, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...s.labels }, value: s.count, metricName: `${this.name}_count` });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: 'histogram', values, aggregator: 'sum' });
  }

  reset(): void {
    this.series.clear();
  }
}
