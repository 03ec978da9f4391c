/**
 * HBONE protocol constants, mirroring ztunnel's defaults (src/config.rs, src/proxy/h2/*.rs).
 * Sizes in bytes, durations in milliseconds.
 */
export const HBONE_PORT = 15008;
export const HBONE_ALPN = 'h2';

const KIB = 1024;
const MIB = 1024 * KIB;

/** HTTP2_STREAM_WINDOW_SIZE: per-stream receive window, both sides. */
export const H2_STREAM_WINDOW_BYTES = 4 * MIB;
/** HTTP2_CONNECTION_WINDOW_SIZE: connection receive window (16 MiB since Istio 1.26). */
export const H2_CONNECTION_WINDOW_BYTES = 16 * MIB;
/** HTTP2_FRAME_SIZE. */
export const H2_MAX_FRAME_BYTES = 1 * MIB;
export const H2_CLIENT_MAX_HEADER_LIST_BYTES = 16 * KIB;
export const H2_SERVER_MAX_HEADER_LIST_BYTES = 64 * KIB;
export const H2_SERVER_MAX_CONCURRENT_STREAMS = 200;
/**
 * nghttp2 memory budget per session (Node counts it in MB). Node's 10 MB default trips
 * ENHANCE_YOUR_CALM once 4 MiB stream windows are in flight on a few streams.
 */
export const H2_MAX_SESSION_MEMORY_MB = 256;

/** hyper keep_alive_interval / keep_alive_timeout as configured by ztunnel. */
export const H2_KEEPALIVE_INTERVAL_MS = 10_000;
export const H2_KEEPALIVE_TIMEOUT_MS = 20_000;

/** POOL_MAX_STREAMS_PER_CONNECTION. */
export const POOL_MAX_STREAMS_PER_CONNECTION = 100;
/** POOL_UNUSED_RELEASE_TIMEOUT (5 minutes). */
export const POOL_IDLE_RELEASE_MS = 300_000;
/** ztunnel's connect timeout (CONNECT_TIMEOUT, 10s). */
export const HBONE_CONNECT_TIMEOUT_MS = 10_000;
/** Bound on a server-side TLS handshake so half-open clients cannot pin sockets. */
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;
