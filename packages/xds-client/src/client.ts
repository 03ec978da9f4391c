import { EventEmitter } from 'node:events';
import { Client, Metadata, status, type ClientDuplexStream, type StatusObject } from '@grpc/grpc-js';
import {
  AggregatedDiscoveryService,
  create,
  DeltaDiscoveryRequestSchema,
  envoyCore,
  grpcMethodPath,
  protobufSerializer,
  type DeltaDiscoveryRequest,
  type DeltaDiscoveryResponse,
  type MessageInitShape,
} from '@mesh/api';
import { Backoff, DEFAULT_INITIAL_BACKOFF_MS, DEFAULT_MAX_BACKOFF_MS } from './backoff';
import { decodeDeltaResponse } from './delta-response';
import { XdsRejectedResponseError } from './errors';
import type { DeltaXdsClientEvents, DeltaXdsClientOptions, XdsTypeHandler, XdsUpdate } from './types';

type Stream = ClientDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>;

/** google.rpc.Code INVALID_ARGUMENT, what ztunnel puts in a NACK's error_detail. */
const NACK_CODE = status.INVALID_ARGUMENT;
const DELTA_ADS_PATH = grpcMethodPath(AggregatedDiscoveryService.method.deltaAggregatedResources);
const serializeRequest = protobufSerializer(DeltaDiscoveryRequestSchema);
const deserializeResponse = (b: Buffer): DeltaDiscoveryResponse => decodeDeltaResponse(b);

/**
 * Delta ADS client, the transport ztunnel uses towards istiod (ztunnel src/xds/client.rs): one
 * DeltaAggregatedResources stream, a wildcard subscription per type, ACK/NACK by nonce, reconnect with
 * exponential backoff and `initial_resource_versions` so istiod sends only what changed meanwhile.
 * While disconnected the handlers' state is left alone: the proxy keeps serving its last good config.
 */
export class DeltaXdsClient extends EventEmitter<DeltaXdsClientEvents> {
  private readonly grpc: Client;
  private readonly handlers = new Map<string, XdsTypeHandler<unknown>>();
  /** type URL -> (name -> version) of the last good (ACKed) state. */
  private readonly versions = new Map<string, Map<string, string>>();
  private readonly backoff: Backoff;
  private readonly node: MessageInitShape<typeof envoyCore.NodeSchema>;
  private stream: Stream | undefined;
  private received = new Set<string>();
  private gotResponse = false;
  private everSynced = false;
  private processing: Promise<void> = Promise.resolve();
  private retryTimer: NodeJS.Timeout | undefined;
  private started = false;
  private closed = false;

  constructor(private readonly options: DeltaXdsClientOptions) {
    super();
    for (const t of options.types) {
      this.handlers.set(t.typeUrl, t);
      this.versions.set(t.typeUrl, new Map());
    }
    this.node = options.node;
    this.backoff = new Backoff(
      options.initialBackoffMs ?? DEFAULT_INITIAL_BACKOFF_MS,
      options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS,
      options.random,
    );
    // A plain grpc-js client so responses go through the wire-level decoder (delta-response.ts).
    this.grpc = new Client(options.address, options.credentials, options.channelOptions);
  }

  /** Opens the stream; attach listeners first. */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.connect();
  }

  /** True once every type got its first response (on any stream so far). */
  get synced(): boolean {
    return this.everSynced;
  }

  get connected(): boolean {
    return this.stream !== undefined && this.gotResponse;
  }

  /** name -> version of the last accepted state of a type (what reconnects report as initial versions). */
  resourceVersions(typeUrl: string): ReadonlyMap<string, string> {
    return this.versions.get(typeUrl) ?? new Map();
  }

  /** Stops reconnecting and closes the channel. The handlers' state is untouched. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.stream?.cancel();
    this.grpc.close();
  }

  private headers(): Metadata {
    const md = new Metadata();
    const m = this.options.metadata;
    const values = typeof m === 'function' ? m() : (m ?? {});
    for (const [k, v] of Object.entries(values)) md.set(k, v);
    return md;
  }

  private connect(): void {
    this.retryTimer = undefined;
    if (this.closed) return;
    const call: Stream = this.grpc.makeBidiStreamRequest(DELTA_ADS_PATH, serializeRequest, deserializeResponse, this.headers());
    this.stream = call;
    this.received = new Set();
    this.gotResponse = false;
    let first = true;
    for (const [typeUrl, versions] of this.versions) {
      // Envoy/ztunnel send the node only on the first request of a stream. An empty subscribe list on
      // the first request of a type is a wildcard subscription.
      call.write(create(DeltaDiscoveryRequestSchema, {
        node: first ? create(envoyCore.NodeSchema, this.node) : undefined,
        typeUrl,
        initialResourceVersions: Object.fromEntries(versions),
      }));
      first = false;
    }
    call.on('data', (resp: DeltaDiscoveryResponse) => {
      this.processing = this.processing.then(() => this.onResponse(call, resp));
    });
    call.on('error', () => undefined); // the 'status' event below carries the outcome
    call.on('status', (s: StatusObject) => this.onStreamDown(call, s));
  }

  private onStreamDown(call: Stream, s: StatusObject): void {
    if (call !== this.stream) return;
    this.stream = undefined;
    if (this.gotResponse) this.backoff.reset();
    const retryInMs = this.closed ? undefined : this.backoff.next();
    const reason = `${status[s.code] ?? s.code}: ${s.details}`;
    this.options.logger?.warn({ code: s.code, details: s.details, retryInMs }, 'xDS stream to istiod ended; keeping the last good config');
    this.emit('disconnected', { code: s.code, details: s.details, reason, retryInMs });
    if (retryInMs !== undefined) this.retryTimer = setTimeout(() => this.connect(), retryInMs);
  }

  private async onResponse(call: Stream, resp: DeltaDiscoveryResponse): Promise<void> {
    if (call !== this.stream) return;
    if (!this.gotResponse) {
      this.gotResponse = true;
      this.emit('connected');
    }
    const handler = this.handlers.get(resp.typeUrl);
    let error: Error | undefined;
    try {
      if (handler === undefined) {
        throw new XdsRejectedResponseError({ typeUrl: resp.typeUrl, reason: 'this client did not subscribe to the type' });
      }
      await handler.apply(this.decodeAll(handler, resp), resp.removedResources);
      this.commit(resp);
    } catch (err) {
      error = err instanceof XdsRejectedResponseError
        ? err
        : new XdsRejectedResponseError({ typeUrl: resp.typeUrl, reason: err instanceof Error ? err.message : String(err) }, { cause: err });
    }
    this.reply(call, resp, error);
  }

  private decodeAll(handler: XdsTypeHandler<unknown>, resp: DeltaDiscoveryResponse): XdsUpdate<unknown>[] {
    return resp.resources.map((r) => {
      if (r.resource === undefined) {
        throw new XdsRejectedResponseError({ typeUrl: resp.typeUrl, reason: `resource ${r.name} has no payload` });
      }
      return { name: r.name, version: r.version, resource: handler.decode(r.resource) };
    });
  }

  private commit(resp: DeltaDiscoveryResponse): void {
    const versions = this.versions.get(resp.typeUrl);
    if (versions === undefined) return;
    for (const r of resp.resources) versions.set(r.name, r.version);
    for (const name of resp.removedResources) versions.delete(name);
  }

  private reply(call: Stream, resp: DeltaDiscoveryResponse, error: Error | undefined): void {
    // Only built when someone listens: a full Address sync is 11k names per client.
    if (this.listenerCount('response') > 0) this.emitResponse(resp, error);
    if (error !== undefined) {
      this.options.logger?.warn({ typeUrl: resp.typeUrl, nonce: resp.nonce, error: error.message }, 'NACKing xDS response');
      this.emit('nack', { typeUrl: resp.typeUrl, nonce: resp.nonce, error });
    }
    if (call !== this.stream) return; // the stream died while applying; the next one reports versions
    call.write(create(DeltaDiscoveryRequestSchema, {
      typeUrl: resp.typeUrl,
      responseNonce: resp.nonce,
      errorDetail: error === undefined ? undefined : { code: NACK_CODE, message: error.message },
    }));
    this.markReceived(resp.typeUrl);
  }

  private emitResponse(resp: DeltaDiscoveryResponse, error: Error | undefined): void {
    this.emit('response', {
      typeUrl: resp.typeUrl,
      nonce: resp.nonce,
      systemVersionInfo: resp.systemVersionInfo,
      resources: resp.resources.map((r) => ({ name: r.name, version: r.version })),
      removed: resp.removedResources,
      accepted: error === undefined,
    });
  }

  private markReceived(typeUrl: string): void {
    if (!this.handlers.has(typeUrl) || this.received.has(typeUrl)) return;
    this.received.add(typeUrl);
    if (this.received.size === this.handlers.size) {
      this.everSynced = true;
      this.emit('synced');
    }
  }
}
