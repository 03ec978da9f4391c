export { createMetricsRegistry, renderMetrics, Registry, Counter, Gauge, Histogram, Summary } from './registry';
export type { MetricsRegistryOptions, CounterConfiguration, GaugeConfiguration, HistogramConfiguration } from './registry';
