export { main } from './echo';
export { startEchoServer, type EchoServer } from './server';
export { runClient, type ClientResult, type ClientSummary } from './client';
export {
  parseClientArgs,
  parseServerArgs,
  DEFAULT_HTTP_PORT,
  DEFAULT_TCP_PORT,
  DEFAULT_GRPC_PORT,
  type EchoClientConfig,
  type EchoServerConfig,
} from './args';
export { MAX_DELAY_MS, type EchoReply } from './http-handler';
export {
  ECHO_GRPC_SERVICE,
  ECHO_GRPC_METHOD_PATH,
  ECHO_GRPC_STATUS_KEY,
  EchoGrpcClient,
  echoServiceDefinition,
  type EchoRequest,
  type EchoResponse,
} from './grpc-service';
