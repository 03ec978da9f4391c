export type {
  AnyService,
  ClientMethod,
  ClientStreamingCall,
  GrpcCallOptions,
  GrpcClientMethods,
  GrpcServiceImplementation,
  RequestOf,
  ResponseOf,
  ServerHandler,
} from './types';
export {
  addGrpcService,
  grpcMethodPath,
  grpcServiceDefinition,
  protobufDeserializer,
  protobufSerializer,
} from './service-definition';
export { createGrpcClient, type GrpcClient, type GrpcClientExtras } from './client';
