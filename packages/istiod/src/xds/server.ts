import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  status,
  type MethodDefinition,
  type Server,
  type ServerDuplexStream,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import {
  AggregatedDiscoveryService,
  grpcServiceDefinition,
  type DeltaDiscoveryRequest,
  type DiscoveryRequest,
} from '@mesh/api';
import { isMeshError, type Logger, type Registry } from '@mesh/core';
import { authRequestOf, type XdsAuthenticator } from './auth';
import type { ConnectionContext, NackEvent, PushEvent, SynczEntry, XdsConnection } from './connection-types';
import { Debouncer, DEFAULT_DEBOUNCE_AFTER_MS, DEFAULT_DEBOUNCE_MAX_MS } from './debouncer';
import { DeltaConnection } from './delta-connection';
import { createXdsMetrics, type XdsMetrics } from './metrics';
import { parseNode } from './node';
import { decodeDeltaRequest } from './request-decoder';
import type { ResourceStore } from './resource';
import { DEFAULT_XDS_SEND_BUDGET_BYTES, SendBudget } from './send-budget';
import { SotwConnection } from './sotw-connection';

export interface XdsServerOptions {
  store: ResourceStore;
  /** Decides who may connect; see staticTokenAuthenticator / mtlsAuthenticator / allowAllAuthenticator. */
  authenticate: XdsAuthenticator;
  /** prom-client registry for pilot_xds* metrics. */
  registry?: Registry;
  logger?: Logger;
  debounceAfterMs?: number;
  debounceMaxMs?: number;
  /** Cap on response bytes buffered in grpc-js/HTTP/2 across connections before large pushes wait (16 MiB). */
  sendBudgetBytes?: number;
}

export interface XdsServerEvents {
  push: [PushEvent];
  nack: [NackEvent];
  connect: [SynczEntry];
  disconnect: [{ connectionId: string; reason: string }];
}

type Req = DeltaDiscoveryRequest | DiscoveryRequest;
type AnyConnection = XdsConnection & { onRequest(req: never): void };

/**
 * istiod's ADS server: delta (DeltaAggregatedResources, what ztunnel uses) and SotW
 * (StreamAggregatedResources) over any type URL the ResourceStore serves. Changes are debounced and
 * pushed per connection with at most one un-ACKed response per type; while one is in flight, further
 * changes only mark names dirty, so a slow client gets the merged latest state when it ACKs.
 */
export class XdsServer extends EventEmitter<XdsServerEvents> {
  private readonly connections = new Map<string, XdsConnection>();
  private readonly debouncer: Debouncer;
  private readonly metrics: XdsMetrics | undefined;
  private readonly ctx: ConnectionContext;
  private readonly unsubscribe: () => void;
  private readonly noncePrefix = randomBytes(4).toString('hex');
  private readonly baselines = new Map<string, ReadonlyMap<string, string>>();
  private nonceSeq = 0;
  private connSeq = 0;
  private versionSeq = 0;
  private version = '';

  constructor(private readonly options: XdsServerOptions) {
    super();
    this.metrics = options.registry === undefined ? undefined : createXdsMetrics(options.registry);
    this.debouncer = new Debouncer(
      (changes) => this.flush(changes),
      options.debounceAfterMs ?? DEFAULT_DEBOUNCE_AFTER_MS,
      options.debounceMaxMs ?? DEFAULT_DEBOUNCE_MAX_MS,
    );
    this.bumpVersion();
    this.ctx = {
      store: options.store,
      metrics: this.metrics,
      logger: options.logger,
      budget: new SendBudget(options.sendBudgetBytes ?? DEFAULT_XDS_SEND_BUDGET_BYTES),
      baseline: (typeUrl) => this.baseline(typeUrl),
      systemVersion: () => this.version,
      newNonce: () => `${this.noncePrefix}-${(++this.nonceSeq).toString(36)}`,
      pushListened: () => this.listenerCount('push') > 0,
      emitPush: (e) => this.emit('push', e),
      emitNack: (e) => this.emit('nack', e),
    };
    this.unsubscribe = options.store.onChange((typeUrl, changed, removed) => {
      this.baselines.delete(typeUrl);
      this.debouncer.add(typeUrl, changed);
      this.debouncer.add(typeUrl, removed);
    });
  }

  /** Adds the AggregatedDiscoveryService to a grpc-js server (call before `bindAsync`). */
  register(server: Server): void {
    // Responses are pre-encoded Buffers (see wire.ts), so the response serializer is the identity.
    const base = grpcServiceDefinition(AggregatedDiscoveryService) as unknown as Record<string, MethodDefinition<unknown, unknown>>;
    const identity = (b: unknown): Buffer => b as Buffer;
    const definition: Record<string, MethodDefinition<unknown, unknown>> = {};
    for (const [k, m] of Object.entries(base)) definition[k] = { ...m, responseSerialize: identity };
    // Delta requests are mostly ACKs, one per push per client: read those straight off the wire.
    const delta = definition['deltaAggregatedResources'];
    if (delta !== undefined) definition['deltaAggregatedResources'] = { ...delta, requestDeserialize: decodeDeltaRequest };
    const impl = {
      deltaAggregatedResources: (call: ServerDuplexStream<DeltaDiscoveryRequest, Buffer>) => void this.serve(call, 'delta'),
      streamAggregatedResources: (call: ServerDuplexStream<DiscoveryRequest, Buffer>) => void this.serve(call, 'sotw'),
    };
    server.addService(definition as ServiceDefinition, impl as unknown as UntypedServiceImplementation);
  }

  /** /debug/syncz: one entry per connected client with per-type nonces, NACKs and resource counts. */
  syncz(): SynczEntry[] {
    return [...this.connections.values()].map((c) => c.syncz());
  }

  /** Response bytes currently buffered in grpc-js/HTTP/2 across connections (see SendBudget). */
  get sendBufferedBytes(): number {
    return this.ctx.budget.bytesInFlight;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Push pending changes now instead of waiting for the debounce window. */
  flushNow(): void {
    this.debouncer.fire();
  }

  /** Stops listening to the store and drops connection state; the grpc-js server is shut down by its owner. */
  close(): void {
    this.unsubscribe();
    this.debouncer.close();
    for (const c of this.connections.values()) c.close();
    this.connections.clear();
  }

  private baseline(typeUrl: string): ReadonlyMap<string, string> {
    let b = this.baselines.get(typeUrl);
    if (b === undefined) {
      const versions = new Map<string, string>();
      for (const [name, r] of this.options.store.snapshot(typeUrl) ?? []) versions.set(name, r.version);
      b = versions;
      this.baselines.set(typeUrl, b);
    }
    return b;
  }

  private bumpVersion(): void {
    // Mirrors istiod's push version: time of the push plus a counter.
    this.version = `${new Date().toISOString()}/${++this.versionSeq}`;
  }

  private flush(changes: ReadonlyMap<string, ReadonlySet<string>>): void {
    this.bumpVersion();
    for (const [typeUrl, names] of changes) {
      for (const c of this.connections.values()) c.enqueue(typeUrl, names);
    }
  }

  private async serve(call: ServerDuplexStream<Req, Buffer>, protocol: 'delta' | 'sotw'): Promise<void> {
    const peer = call.getPeer();
    let principal;
    try {
      principal = await this.options.authenticate(authRequestOf(call));
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.options.logger?.warn({ peer, code: isMeshError(err) ? err.code : undefined, error: reason }, 'rejected unauthenticated xDS stream');
      call.emit('error', { code: status.UNAUTHENTICATED, details: reason });
      return;
    }
    // The client may have gone while we were authenticating; its buffered requests must not register a connection.
    if (call.cancelled) return;
    let conn: AnyConnection | undefined;
    let ended = false;
    const finish = (reason: string, error?: { code: status; details: string }): void => {
      if (ended) return;
      ended = true;
      if (conn !== undefined) this.drop(conn, reason);
      if (error !== undefined) call.emit('error', error);
      else call.end();
    };
    call.on('data', (req: Req) => {
      if (ended) return;
      try {
        if (conn === undefined) {
          const node = parseNode(req.node);
          const id = `${node.id}-${++this.connSeq}`;
          const write = (bytes: Buffer, done: () => void): void => void call.write(bytes, done);
          conn = protocol === 'delta'
            ? new DeltaConnection(id, node, principal, this.ctx, write)
            : new SotwConnection(id, node, principal, this.ctx, write);
          this.adopt(conn);
        }
        (conn.onRequest as (r: Req) => void)(req);
      } catch (err) {
        const details = err instanceof Error ? err.message : String(err);
        this.options.logger?.warn({ peer, connection: conn?.id, error: details }, 'bad xDS request; closing the stream');
        finish(details, { code: status.INVALID_ARGUMENT, details });
      }
    });
    call.on('end', () => finish('client closed the stream'));
    call.on('cancelled', () => finish('cancelled'));
    call.on('error', (err: Error) => finish(`stream error: ${err.message}`));
    call.on('close', () => finish('closed'));
  }

  private adopt(conn: XdsConnection): void {
    this.connections.set(conn.id, conn);
    this.metrics?.clients.inc({ version: conn.node.istioVersion, type: conn.node.type });
    this.options.logger?.info({ connection: conn.id, identity: conn.principal.identity }, 'xDS client connected');
    this.emit('connect', conn.syncz());
  }

  private drop(conn: XdsConnection, reason: string): void {
    conn.close();
    if (!this.connections.delete(conn.id)) return;
    this.metrics?.clients.dec({ version: conn.node.istioVersion, type: conn.node.type });
    this.options.logger?.info({ connection: conn.id, reason }, 'xDS client disconnected');
    this.emit('disconnect', { connectionId: conn.id, reason });
  }
}
