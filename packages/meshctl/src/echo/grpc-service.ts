import * as grpc from '@grpc/grpc-js';

/**
 * `mesh.echo.v1.Echo`, defined without protoc. The messages are JSON, not protobuf: JSON-over-gRPC framing.
 * On the wire this is still real gRPC over HTTP/2 (POST /mesh.echo.v1.Echo/Echo, content-type
 * application/grpc, 5-byte length-prefixed messages, grpc-status/grpc-message trailers), which is all a proxy
 * (ztunnel, waypoint) looks at; only the payload bytes differ from a protobuf service.
 */
export const ECHO_GRPC_SERVICE = 'mesh.echo.v1.Echo';
export const ECHO_GRPC_METHOD_PATH = `/${ECHO_GRPC_SERVICE}/Echo`;
/** Request metadata key: answer with this gRPC status code (0-16) instead of OK, for retry/abort tests. */
export const ECHO_GRPC_STATUS_KEY = 'x-echo-grpc-status';

export interface EchoRequest {
  message: string;
}

export interface EchoResponse {
  message: string;
  pod: string;
  namespace: string;
  version: string;
  /** The caller as this pod sees it (after any NAT or proxy), "ip:port". */
  peer: string;
  /** Request metadata; binary (-bin) values are base64. */
  metadata: Record<string, string>;
}

function jsonSerialize<T>(value: T): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function parseRequest(bytes: Buffer): EchoRequest {
  const v = bytes.length === 0 ? {} : (JSON.parse(bytes.toString('utf8')) as { message?: unknown });
  return { message: typeof v.message === 'string' ? v.message : '' };
}

function parseResponse(bytes: Buffer): EchoResponse {
  return JSON.parse(bytes.toString('utf8')) as EchoResponse;
}

export const echoServiceDefinition = {
  echo: {
    path: ECHO_GRPC_METHOD_PATH,
    originalName: 'Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: jsonSerialize<EchoRequest>,
    requestDeserialize: parseRequest,
    responseSerialize: jsonSerialize<EchoResponse>,
    responseDeserialize: parseResponse,
  },
} satisfies grpc.ServiceDefinition;

/** A generic grpc-js client class for the service (what protoc-generated stubs would give). */
export const EchoGrpcClient = grpc.makeGenericClientConstructor(echoServiceDefinition, ECHO_GRPC_SERVICE);
