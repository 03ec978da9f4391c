import * as grpc from '@grpc/grpc-js';
import type { EchoClientConfig } from './args';
import type { CallOutcome, Caller } from './client';
import { EchoGrpcClient, echoServiceDefinition } from './grpc-service';

const ECHO = echoServiceDefinition.echo;

/**
 * One caller per client worker. Without --keepalive every call gets its own channel and, with a local
 * subchannel pool, its own TCP connection: ztunnel balances per connection, so canary splits need this
 * (the HTTP client does the same).
 */
export function createGrpcCaller(cfg: EchoClientConfig & { grpc: string }): Caller {
  let client: grpc.Client | undefined;
  const open = () =>
    new EchoGrpcClient(cfg.grpc, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
  return {
    call: () => {
      if (!client || !cfg.keepAlive) {
        client?.close();
        client = open();
      }
      const md = new grpc.Metadata();
      for (const [k, v] of Object.entries(cfg.headers)) md.set(k, v);
      const c = client;
      return new Promise<CallOutcome>((resolve) => {
        c.makeUnaryRequest(
          ECHO.path,
          ECHO.requestSerialize,
          ECHO.responseDeserialize,
          { message: cfg.message },
          md,
          { deadline: Date.now() + cfg.timeoutMs },
          (err, res) => {
            if (err || !res) resolve({ protocol: 'gRPC', grpcStatus: err?.code ?? grpc.status.UNKNOWN, error: err?.details ?? 'no response' });
            else resolve({ protocol: 'gRPC', grpcStatus: grpc.status.OK, pod: res.pod, version: res.version, peer: res.peer });
          },
        );
      });
    },
    close: () => client?.close(),
  };
}
