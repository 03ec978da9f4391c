// gRPC message counting for istio_request_messages_total / istio_response_messages_total (Envoy's grpc_stats
// filter, read by Istio's stats filter): the body of a gRPC stream is a sequence of length-prefixed messages
// (1 byte compressed flag, 4 bytes big-endian length, payload). The counter reads only the 5-byte prefixes as
// the body chunks pass by and skips payloads by arithmetic: no copy, no buffering, any chunk split.

/** `application/grpc`, `application/grpc+proto`, `application/grpc+json`, `application/grpc;...` (not grpc-web). */
export function isGrpcContentType(contentType: string | string[] | undefined): boolean {
  if (typeof contentType !== 'string' || !contentType.startsWith('application/grpc')) return false;
  const next = contentType.charCodeAt(16);
  return Number.isNaN(next) || next === 43 /* + */ || next === 59 /* ; */;
}

/** Prefix bytes: the compressed flag then four length bytes. */
const PREFIX_BYTES = 5;
/** `prefixRead` once a prefix was malformed: counting stopped for the stream. */
const BROKEN = -1;

/**
 * Counts gRPC messages in one direction of one stream. A message counts once its compressed-flag byte is seen
 * (as Envoy's gRPC frame inspector does), so a stream cut mid-message still counts the message it was in. A
 * flag other than 0 or 1 is malformed: counting stops there and `count` keeps what was seen; never throws.
 */
export class GrpcMessageCounter {
  count = 0;
  /** Prefix bytes of the current message read so far (0..4), or BROKEN. */
  private prefixRead = 0;
  /** The length being assembled from the prefix. */
  private length = 0;
  /** Payload bytes of the current message still to pass. */
  private skip = 0;

  push(chunk: Uint8Array): void {
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (this.skip > 0) {
        const take = Math.min(this.skip, n - i);
        this.skip -= take;
        i += take;
        continue;
      }
      const b = chunk[i++]!;
      const read = this.prefixRead;
      if (read === 0) {
        if (b > 1) {
          this.prefixRead = BROKEN;
          return;
        }
        this.count++;
        this.length = 0;
        this.prefixRead = 1;
      } else if (read === BROKEN) {
        return;
      } else {
        this.length = this.length * 256 + b;
        if (read + 1 === PREFIX_BYTES) {
          this.skip = this.length;
          this.prefixRead = 0;
        } else {
          this.prefixRead = read + 1;
        }
      }
    }
  }
}

/** Both directions of one gRPC exchange. */
export interface GrpcMessageCounters {
  readonly request: GrpcMessageCounter;
  readonly response: GrpcMessageCounter;
}

export function grpcMessageCounters(): GrpcMessageCounters {
  return { request: new GrpcMessageCounter(), response: new GrpcMessageCounter() };
}
