// The byte copy between the two legs of a proxied connection plus its bookkeeping (metrics, access log,
// drain). Bytes come from the kernel-facing net.Socket's own counters once at close, so the hot path has
// no per-chunk callbacks (hbone's bridge uses .pipe(), not stream.pipeline()).
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { bridge } from '@mesh/hbone';
import type { Logger } from '@mesh/core';
import type { ProxyMetrics, ResponseFlag, TcpLabels } from '../../metrics/index';
import type { Closable } from './connection-set';

/** Received = bytes from the client; sent = bytes to the client (Istio's direction for istio_tcp_*). */
export interface ByteCounts {
  received: number;
  sent: number;
}

/** Counts read off the socket that faces the client (outbound, plaintext inbound). */
export function clientSideCounts(client: Socket): () => ByteCounts {
  return () => ({ received: client.bytesRead, sent: client.bytesWritten });
}

/** Counts read off the socket that faces the app (HBONE inbound: the client side is an HTTP/2 stream). */
export function upstreamSideCounts(upstream: Socket): () => ByteCounts {
  return () => ({ received: upstream.bytesWritten, sent: upstream.bytesRead });
}

export interface ConnectionRecord {
  readonly labels: TcpLabels;
  /** The same label set with a failure flag (cached per pair like `labels`). */
  labelsWithFlag(flag: ResponseFlag): TcpLabels;
  readonly metrics: ProxyMetrics;
  /** Child of the `access` logger carrying src/dst/identities (built on first use). */
  readonly accessLog: Logger;
  /** Whether the `access` logger writes this level now (checked before building a line). */
  logs(level: 'debug' | 'info'): boolean;
  readonly startedAtMs: number;
  /** Registers sockets/streams the pod teardown must destroy; released with the record. */
  track(...closables: Closable[]): void;
  /** Drain / pod-teardown bookkeeping; idempotent. */
  release(): void;
}

/** Connection opened: counted and logged (Z:src/proxy/metrics.rs ConnectionOpen). */
export function recordOpen(rec: ConnectionRecord): void {
  rec.metrics.connectionOpened(rec.labels);
  if (rec.logs('debug')) rec.accessLog.debug('connection opened');
}

/** Connection that never got to copy bytes (denied, upstream failure): counted opened+closed with its flag. */
export function recordRejected(rec: ConnectionRecord, flag: ResponseFlag, error: string): void {
  rec.metrics.connectionRejected(rec.labelsWithFlag(flag));
  if (rec.logs('info')) rec.accessLog.info({ error, duration_ms: Date.now() - rec.startedAtMs }, 'connection complete');
  rec.release();
}

/** Copies both ways until both sides close, then records bytes and duration. */
export function relay(client: Duplex, upstream: Duplex, counts: () => ByteCounts, rec: ConnectionRecord): void {
  bridge(client, upstream, (err) => {
    const { received, sent } = counts();
    rec.metrics.connectionClosed(rec.labels, received, sent);
    if (rec.logs('info')) {
      const fields = { bytes_recv: received, bytes_sent: sent, duration_ms: Date.now() - rec.startedAtMs };
      if (err && !isQuietClose(err)) rec.accessLog.info({ ...fields, error: err.message }, 'connection complete');
      else rec.accessLog.info(fields, 'connection complete');
    }
    rec.release();
  });
}

/** Resets by a peer are ordinary ends of TCP connections, not proxy errors worth an error field. */
function isQuietClose(err: Error): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}
