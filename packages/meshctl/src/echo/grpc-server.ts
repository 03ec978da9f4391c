import * as grpc from '@grpc/grpc-js';
import type { EchoServerConfig } from './args';
import { ECHO_GRPC_STATUS_KEY, echoServiceDefinition, type EchoRequest, type EchoResponse } from './grpc-service';

const MAX_GRPC_STATUS = 16;

export interface EchoGrpcServer {
  port: number;
  close(): void;
}

function metadataRecord(md: grpc.Metadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(md.getMap())) out[k] = typeof v === 'string' ? v : v.toString('base64');
  return out;
}

/** grpc-js reports peers as "ip:port", "[v6]:port" or "ipv4:ip:port" depending on version; normalise to ip:port. */
export function normalisePeer(peer: string): string {
  return peer.replace(/^ipv[46]:/, '').replace(/^\[::ffff:([0-9.]+)\]/, '$1');
}

function requestedStatus(md: grpc.Metadata): number | undefined {
  const raw = md.get(ECHO_GRPC_STATUS_KEY)[0];
  const code = raw === undefined ? NaN : Number(raw.toString());
  return Number.isInteger(code) && code > 0 && code <= MAX_GRPC_STATUS ? code : undefined;
}

function echoHandler(cfg: EchoServerConfig): grpc.handleUnaryCall<EchoRequest, EchoResponse> {
  return (call, callback) => {
    const headers = new grpc.Metadata();
    headers.set('x-echo-pod', cfg.pod);
    headers.set('x-echo-version', cfg.version);
    call.sendMetadata(headers);
    const status = requestedStatus(call.metadata);
    if (status !== undefined) {
      callback({ code: status, details: `status ${status} requested by ${ECHO_GRPC_STATUS_KEY} (pod ${cfg.pod})` });
      return;
    }
    callback(null, {
      message: call.request.message,
      pod: cfg.pod,
      namespace: cfg.namespace,
      version: cfg.version,
      peer: normalisePeer(call.getPeer()),
      metadata: metadataRecord(call.metadata),
    });
  };
}

/** Binds the Echo service on host:port (port 0 picks a free one). Plaintext HTTP/2, as mesh apps speak it. */
export function startGrpcEcho(cfg: EchoServerConfig, port: number): Promise<EchoGrpcServer> {
  const server = new grpc.Server();
  server.addService(echoServiceDefinition, { echo: echoHandler(cfg) });
  const host = cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host;
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => {
      if (err) {
        server.forceShutdown();
        reject(err);
        return;
      }
      resolve({ port: bound, close: () => server.forceShutdown() });
    });
  });
}
