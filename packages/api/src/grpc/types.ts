import type { DescMessage, MessageInitShape, MessageShape } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import type {
  CallOptions,
  ClientDuplexStream,
  ClientReadableStream,
  ClientWritableStream,
  Metadata,
  handleBidiStreamingCall,
  handleClientStreamingCall,
  handleServerStreamingCall,
  handleUnaryCall,
} from '@grpc/grpc-js';

/** Any protobuf-es generated service descriptor (e.g. `AggregatedDiscoveryService`). */
export type AnyService = GenService<GenServiceMethods>;

type MethodShape = { input: DescMessage; output: DescMessage; methodKind: string };

/** Request message type of a method. */
export type RequestOf<M> = M extends { input: infer I extends DescMessage } ? MessageShape<I> : never;
/** Response message type of a method. */
export type ResponseOf<M> = M extends { output: infer O extends DescMessage } ? MessageShape<O> : never;
/** What a unary/server-streaming client call accepts: a message or its init shape. */
export type RequestInitOf<M> = M extends { input: infer I extends DescMessage } ? MessageInitShape<I> : never;

/** The grpc-js handler type matching a method's streaming kind. */
export type ServerHandler<M extends MethodShape> = M extends { methodKind: 'unary' }
  ? handleUnaryCall<RequestOf<M>, ResponseOf<M>>
  : M extends { methodKind: 'server_streaming' }
    ? handleServerStreamingCall<RequestOf<M>, ResponseOf<M>>
    : M extends { methodKind: 'client_streaming' }
      ? handleClientStreamingCall<RequestOf<M>, ResponseOf<M>>
      : handleBidiStreamingCall<RequestOf<M>, ResponseOf<M>>;

/** Typed server implementation: one handler per RPC, keyed by the RPC's camelCase name. */
export type GrpcServiceImplementation<S extends AnyService> = {
  [K in keyof S['method']]: ServerHandler<S['method'][K]>;
};

/** Per-call options of the typed client. */
export interface GrpcCallOptions {
  metadata?: Metadata;
  /** Absolute deadline (Date or ms since epoch), as grpc-js expects. */
  deadline?: CallOptions['deadline'];
  /** Cancels the call (status CANCELLED) when aborted. */
  signal?: AbortSignal;
}

/** Result of a client-streaming call: write requests to `call`, then `end()` it. */
export interface ClientStreamingCall<Req, Res> {
  call: ClientWritableStream<Req>;
  response: Promise<Res>;
}

/** The typed client function for one method. */
export type ClientMethod<M extends MethodShape> = M extends { methodKind: 'unary' }
  ? (request: RequestInitOf<M>, options?: GrpcCallOptions) => Promise<ResponseOf<M>>
  : M extends { methodKind: 'server_streaming' }
    ? (request: RequestInitOf<M>, options?: GrpcCallOptions) => ClientReadableStream<ResponseOf<M>>
    : M extends { methodKind: 'client_streaming' }
      ? (options?: GrpcCallOptions) => ClientStreamingCall<RequestOf<M>, ResponseOf<M>>
      : (options?: GrpcCallOptions) => ClientDuplexStream<RequestOf<M>, ResponseOf<M>>;

/** Typed client methods for every RPC of a service. */
export type GrpcClientMethods<S extends AnyService> = {
  [K in keyof S['method']]: ClientMethod<S['method'][K]>;
};
