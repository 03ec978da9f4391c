// One downstream request/response pair, carried through the pipeline; records Istio's metrics once, when the
// response finished or the client went away.
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Http1Request, Http1Response } from '../http1/index';
import type { GrpcMessageCounters, RequestRecord } from '../metrics/index';
import type { TunnelContext } from './context';
import type { CancelSignal } from './done-signal';

export type DownstreamRequest = Http1Request | Http2ServerRequest;
export type DownstreamResponse = Http1Response | Http2ServerResponse;

export interface Exchange {
  readonly req: DownstreamRequest;
  readonly res: DownstreamResponse;
  readonly ctx: TunnelContext;
  readonly startMs: number;
  /** Aborted when the client goes away (or the response completed). */
  readonly signal: CancelSignal;
  record: Omit<RequestRecord, 'durationMs'>;
  /** gRPC requests only: message counts per direction, fed the body chunks as they pass. */
  readonly grpcMessages?: GrpcMessageCounters;
}

/** Envoy-style local reply: status, plain-text body, response flag for the metrics. */
export function localReply(ex: Exchange, status: number, body: string, flags: string, headers: Record<string, string> = {}): void {
  ex.record.responseCode = status;
  ex.record.responseFlags = flags;
  const res = ex.res;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const buf = Buffer.from(body);
  ex.record.responseBytes = buf.length;
  (res as Http1Response).writeHead(status, { 'content-type': 'text/plain', 'content-length': String(buf.length), ...headers });
  res.end(buf);
}
