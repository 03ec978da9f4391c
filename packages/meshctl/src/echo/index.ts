export { main } from './echo';
export { startEchoServer, type EchoServer } from './server';
export { runClient, type ClientResult, type ClientSummary } from './client';
export {
  parseClientArgs,
  parseServerArgs,
  DEFAULT_HTTP_PORT,
  DEFAULT_TCP_PORT,
  type EchoClientConfig,
  type EchoServerConfig,
} from './args';
export { MAX_DELAY_MS, type EchoReply } from './http-handler';
