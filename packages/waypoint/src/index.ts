// The waypoint's pure L7 engines; the listener/HTTP layers import these.
export * from './route';
export * from './policy';
export * from './config';
// The waypoint process: listener, L7 pipeline, upstream, metrics, ops, app wiring.
export { WaypointApp, waypointConfig, waypointFromConfig, createWaypointXds, type WaypointAppOptions } from './app/index';
export { WaypointListener, sniff, classify, type SniffedProtocol } from './listener/index';
export { createRequestHandler, type TunnelContext, type TunnelTarget, type RequestHandler } from './http/index';
export { UpstreamState, HboneAgents, type Endpoint, type UpstreamService, type UpstreamWorkload } from './upstream/index';
export { RequestMetrics, requestLabels, REQUEST_LABELS } from './metrics/index';
