export { ProxyMetrics } from './proxy-metrics';
export { buildTrafficLabels, TRAFFIC_LABEL_NAMES } from './traffic-labels';
export type { TrafficLabels, TrafficLabelInput, Reporter, ResponseFlag, SecurityPolicy } from './traffic-labels';
