export { WaypointListener, type WaypointListenerOptions } from './hbone-listener';
export { sniff, classify, SNIFF_TIMEOUT_MS, type SniffedProtocol } from './sniff';
export { MAX_HEADER_BYTES, HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS } from './servers';
