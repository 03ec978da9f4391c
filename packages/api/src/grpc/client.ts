import { create, type DescMethod } from '@bufbuild/protobuf';
import { Client, Metadata, type CallOptions, type ChannelCredentials, type ChannelOptions } from '@grpc/grpc-js';
import { ApiError } from '../errors';
import { grpcMethodPath, protobufDeserializer, protobufSerializer } from './service-definition';
import type { AnyService, GrpcCallOptions, GrpcClientMethods } from './types';

/** Members the typed client adds next to the RPC methods. */
export interface GrpcClientExtras {
  /** The underlying grpc-js client (channel state, waitForReady, ...). */
  readonly client: Client;
  /** Closes the channel; in-flight calls fail with CANCELLED/UNAVAILABLE. */
  close(): void;
}

export type GrpcClient<S extends AnyService> = GrpcClientMethods<S> & GrpcClientExtras;

const RESERVED_MEMBERS: ReadonlySet<string> = new Set(['client', 'close']);

interface StartedCall {
  cancel(): void;
  once(event: 'status', listener: () => void): unknown;
}

function callOptionsOf(options: GrpcCallOptions | undefined): CallOptions {
  return options?.deadline === undefined ? {} : { deadline: options.deadline };
}

/** Ties the call's lifetime to options.signal, cancelling it when aborted. */
function bindSignal<C extends StartedCall>(call: C, signal: AbortSignal | undefined): C {
  if (signal === undefined) return call;
  if (signal.aborted) {
    call.cancel();
    return call;
  }
  const onAbort = (): void => call.cancel();
  signal.addEventListener('abort', onAbort, { once: true });
  call.once('status', () => signal.removeEventListener('abort', onAbort));
  return call;
}

// Each factory returns the typed client function for one method kind; the casts are confined here,
// where the method kind was checked at runtime and the serializers come from the same descriptor.
function unaryMethod(client: Client, method: DescMethod): unknown {
  const path = grpcMethodPath(method);
  const serialize = protobufSerializer(method.input);
  const deserialize = protobufDeserializer(method.output);
  return (request: Parameters<typeof create>[1], options?: GrpcCallOptions) =>
    new Promise((resolve, reject) => {
      const message = create(method.input, request);
      const call = client.makeUnaryRequest(
        path, serialize, deserialize, message, options?.metadata ?? new Metadata(), callOptionsOf(options),
        (error, response) => (error ? reject(error) : resolve(response)),
      );
      bindSignal(call, options?.signal);
    });
}

function serverStreamingMethod(client: Client, method: DescMethod): unknown {
  const path = grpcMethodPath(method);
  const serialize = protobufSerializer(method.input);
  const deserialize = protobufDeserializer(method.output);
  return (request: Parameters<typeof create>[1], options?: GrpcCallOptions) => {
    const message = create(method.input, request);
    const call = client.makeServerStreamRequest(
      path, serialize, deserialize, message, options?.metadata ?? new Metadata(), callOptionsOf(options),
    );
    return bindSignal(call, options?.signal);
  };
}

function clientStreamingMethod(client: Client, method: DescMethod): unknown {
  const path = grpcMethodPath(method);
  const serialize = protobufSerializer(method.input);
  const deserialize = protobufDeserializer(method.output);
  return (options?: GrpcCallOptions) => {
    let call!: StartedCall;
    const response = new Promise((resolve, reject) => {
      call = client.makeClientStreamRequest(
        path, serialize, deserialize, options?.metadata ?? new Metadata(), callOptionsOf(options),
        (error, value) => (error ? reject(error) : resolve(value)),
      );
    });
    return { call: bindSignal(call, options?.signal), response };
  };
}

function bidiStreamingMethod(client: Client, method: DescMethod): unknown {
  const path = grpcMethodPath(method);
  const serialize = protobufSerializer(method.input);
  const deserialize = protobufDeserializer(method.output);
  return (options?: GrpcCallOptions) => {
    const call = client.makeBidiStreamRequest(
      path, serialize, deserialize, options?.metadata ?? new Metadata(), callOptionsOf(options),
    );
    return bindSignal(call, options?.signal);
  };
}

const METHOD_FACTORIES: Record<DescMethod['methodKind'], (client: Client, method: DescMethod) => unknown> = {
  unary: unaryMethod,
  server_streaming: serverStreamingMethod,
  client_streaming: clientStreamingMethod,
  bidi_streaming: bidiStreamingMethod,
};

/**
 * A typed gRPC client for a protobuf-es service. Unary calls return a Promise (rejected with the grpc-js
 * ServiceError carrying `code`/`details`/`metadata`); streaming calls return the grpc-js stream objects.
 * Requests may be messages or init objects.
 */
export function createGrpcClient<S extends AnyService>(
  service: S,
  address: string,
  credentials: ChannelCredentials,
  options?: Partial<ChannelOptions>,
): GrpcClient<S> {
  const client = new Client(address, credentials, options);
  const methods: Record<string, unknown> = {};
  for (const method of service.methods) {
    if (RESERVED_MEMBERS.has(method.localName)) {
      client.close();
      throw new ApiError(
        'API_GRPC_RESERVED_METHOD',
        `${service.typeName}.${method.name} maps to "${method.localName}", which the typed client reserves; ` +
          'use grpcServiceDefinition() with a grpc-js client instead',
      );
    }
    methods[method.localName] = METHOD_FACTORIES[method.methodKind](client, method);
  }
  const extras: GrpcClientExtras = { client, close: () => client.close() };
  return Object.assign(methods, extras) as GrpcClient<S>;
}
