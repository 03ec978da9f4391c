export { RequestMetrics, requestLabels, REQUEST_LABELS, UNKNOWN, type RequestRecord, type RequestLabels, type PeerFacts } from './request-metrics';
