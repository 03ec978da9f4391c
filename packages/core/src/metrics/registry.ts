import { Registry, collectDefaultMetrics } from 'prom-client';

export interface MetricsRegistryOptions {
  /** Also collect Node process metrics (CPU, memory, event loop lag, fds). Off by default: tests create many registries. */
  processMetrics?: boolean;
  /** Labels put on every series of this registry. */
  defaultLabels?: Record<string, string>;
  /** Prefix for the process metrics' names (e.g. "istio_"). */
  processMetricsPrefix?: string;
}

/**
 * A fresh prom-client Registry. Never use prom-client's global default registry: a metric registered
 * twice in it throws, and state would leak between tests and between components in one process.
 */
export function createMetricsRegistry(options: MetricsRegistryOptions = {}): Registry {
  const registry = new Registry();
  if (options.defaultLabels !== undefined) registry.setDefaultLabels(options.defaultLabels);
  if (options.processMetrics === true) {
    collectDefaultMetrics(
      options.processMetricsPrefix === undefined
        ? { register: registry }
        : { register: registry, prefix: options.processMetricsPrefix },
    );
  }
  return registry;
}

/** Render the registry in the Prometheus text format with the matching content type. */
export async function renderMetrics(registry: Registry): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}

export { Registry, Counter, Gauge, Histogram, Summary } from 'prom-client';
export type { CounterConfiguration, GaugeConfiguration, HistogramConfiguration } from 'prom-client';
