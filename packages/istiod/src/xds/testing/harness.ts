import { credentials, Server, ServerCredentials, type ChannelCredentials, type ChannelOptions } from '@grpc/grpc-js';
import {
  ADDRESS_TYPE_URL,
  AUTHORIZATION_TYPE_URL,
  AuthorizationSchema,
  create,
  packAuthorization,
  unpackAuthorization,
  type Authorization,
  type wkt,
} from '@mesh/api';
import type { Logger, Registry } from '@mesh/core';
import { DeltaXdsClient, type XdsTypeHandler, type XdsUpdate } from '@mesh/xds-client';
import { allowAllAuthenticator, type XdsAuthenticator } from '../auth';
import type { PushEvent } from '../connection-types';
import { MemoryResourceStore } from '../memory-store';
import { XdsServer } from '../server';

/** Test payload: an Authorization whose `name`/`namespace` carry the test's data. */
export function packed(name: string, content: string): wkt.Any {
  return packAuthorization(create(AuthorizationSchema, { name, namespace: content }));
}

export const TYPES = [ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL] as const;

export interface RunningServer {
  readonly grpc: Server;
  readonly xds: XdsServer;
  readonly port: number;
  readonly pushes: PushEvent[];
  stop(): Promise<void>;
}

export interface ServerSetup {
  store: MemoryResourceStore;
  authenticate?: XdsAuthenticator;
  credentials?: ServerCredentials;
  port?: number;
  debounceAfterMs?: number;
  sendBudgetBytes?: number;
  registry?: Registry;
  logger?: Logger;
}

export async function startServer(s: ServerSetup): Promise<RunningServer> {
  const grpc = new Server();
  const xds = new XdsServer({
    store: s.store,
    authenticate: s.authenticate ?? allowAllAuthenticator,
    debounceAfterMs: s.debounceAfterMs ?? 10,
    ...(s.sendBudgetBytes === undefined ? {} : { sendBudgetBytes: s.sendBudgetBytes }),
    ...(s.registry === undefined ? {} : { registry: s.registry }),
    ...(s.logger === undefined ? {} : { logger: s.logger }),
  });
  const pushes: PushEvent[] = [];
  xds.on('push', (e) => pushes.push(e));
  xds.register(grpc);
  const port = await new Promise<number>((resolve, reject) =>
    grpc.bindAsync(`127.0.0.1:${s.port ?? 0}`, s.credentials ?? ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    grpc,
    xds,
    port,
    pushes,
    stop: async () => {
      xds.close();
      grpc.forceShutdown();
    },
  };
}

/** What a test client holds per type: name -> decoded payload `namespace` field. */
export type ClientState = Map<string, Map<string, string>>;

export interface ClientSetup {
  port: number;
  types?: readonly string[];
  metadata?: Record<string, string>;
  credentials?: ChannelCredentials;
  channelOptions?: Partial<ChannelOptions>;
  /** Called inside apply; throw to NACK, await to be slow. */
  onApply?: (typeUrl: string, updates: readonly XdsUpdate<Authorization>[], removed: readonly string[]) => void | Promise<void>;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  pod?: string;
}

export function startClient(c: ClientSetup): { client: DeltaXdsClient; state: ClientState } {
  const state: ClientState = new Map();
  const handlers: XdsTypeHandler<Authorization>[] = (c.types ?? TYPES).map((typeUrl) => {
    const map = new Map<string, string>();
    state.set(typeUrl, map);
    return {
      typeUrl,
      decode: (any) => unpackAuthorization(any),
      async apply(updates, removed) {
        await c.onApply?.(typeUrl, updates, removed);
        for (const u of updates) map.set(u.name, u.resource.namespace);
        for (const r of removed) map.delete(r);
      },
    };
  });
  const pod = c.pod ?? 'ztunnel-abc';
  const client = new DeltaXdsClient({
    address: `127.0.0.1:${c.port}`,
    credentials: c.credentials ?? credentials.createInsecure(),
    metadata: c.metadata ?? {},
    node: {
      id: `ztunnel~10.0.0.1~${pod}.istio-system~istio-system.svc.cluster.local`,
      metadata: { NAME: pod, NAMESPACE: 'istio-system', NODE_NAME: 'node-1', CLUSTER_ID: 'Kubernetes' },
    },
    types: handlers,
    initialBackoffMs: c.initialBackoffMs ?? 50,
    maxBackoffMs: c.maxBackoffMs ?? 200,
    ...(c.channelOptions === undefined ? {} : { channelOptions: c.channelOptions }),
  });
  client.start();
  return { client, state };
}

export async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export { credentials };
