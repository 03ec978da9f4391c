export { RequestMetrics, requestLabels, REQUEST_LABELS, UNKNOWN, type RequestRecord, type RequestLabels, type PeerFacts } from './request-metrics';
export { GrpcMessageCounter, grpcMessageCounters, isGrpcContentType, type GrpcMessageCounters } from './grpc-messages';
