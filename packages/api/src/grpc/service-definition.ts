import { fromBinary, toBinary, type DescMessage, type DescMethod, type MessageShape } from '@bufbuild/protobuf';
import type { MethodDefinition, Server, ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { AnyService, GrpcServiceImplementation } from './types';

/** gRPC HTTP/2 path of a method: `/<package>.<Service>/<Method>` (proto names, not JS names). */
export function grpcMethodPath(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

/** grpc-js serializer that encodes with protobuf-es without copying the encoded bytes. */
export function protobufSerializer<Desc extends DescMessage>(schema: Desc): (message: MessageShape<Desc>) => Buffer {
  return (message) => {
    const bytes = toBinary(schema, message);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

/**
 * grpc-js deserializer. Unknown fields are kept, so a message relayed unchanged keeps fields of newer
 * proto versions. Bytes fields are views into `buffer` (protobuf-es does not copy them): copy them
 * before storing long-term if retaining the whole received message is a concern.
 */
export function protobufDeserializer<Desc extends DescMessage>(schema: Desc): (buffer: Buffer) => MessageShape<Desc> {
  return (buffer) => fromBinary(schema, buffer);
}

function methodDefinition(method: DescMethod): MethodDefinition<unknown, unknown> {
  const kind = method.methodKind;
  return {
    path: grpcMethodPath(method),
    requestStream: kind === 'client_streaming' || kind === 'bidi_streaming',
    responseStream: kind === 'server_streaming' || kind === 'bidi_streaming',
    requestSerialize: protobufSerializer(method.input) as (value: unknown) => Buffer,
    requestDeserialize: protobufDeserializer(method.input),
    responseSerialize: protobufSerializer(method.output) as (value: unknown) => Buffer,
    responseDeserialize: protobufDeserializer(method.output),
    originalName: method.localName,
  };
}

/**
 * A grpc-js ServiceDefinition for a protobuf-es service, keyed by the RPCs' camelCase names
 * (`deltaAggregatedResources`), usable with `server.addService` and `makeGenericClientConstructor`.
 */
export function grpcServiceDefinition<S extends AnyService>(
  service: S,
): ServiceDefinition<GrpcServiceImplementation<S>> {
  const definition: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    definition[method.localName] = methodDefinition(method);
  }
  return definition as ServiceDefinition<GrpcServiceImplementation<S>>;
}

/** `server.addService` with handlers type-checked against the service's messages and streaming kinds. */
export function addGrpcService<S extends AnyService>(
  server: Server,
  service: S,
  implementation: GrpcServiceImplementation<S>,
): void {
  // grpc-js's addService is untyped; the mapped type above is what guarantees handler/message agreement.
  server.addService(
    grpcServiceDefinition(service) as ServiceDefinition,
    implementation as unknown as UntypedServiceImplementation,
  );
}
