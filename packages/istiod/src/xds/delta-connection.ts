import type { DeltaDiscoveryRequest } from '@mesh/api';
import type { XdsPrincipal } from './auth';
import { statusOf, type ConnectionContext, type SynczEntry, type SynczTypeStatus, type XdsConnection } from './connection-types';
import { metricType } from './metrics';
import type { ProxyNode } from './node';
import type { StoredResource } from './resource';
import { ConnectionWriter, type WriteFn } from './connection-writer';
import { HeldVersions } from './held-versions';
import { encodeDeltaResponse } from './wire';

const WILDCARD = '*';
const EMPTY: ReadonlyMap<string, StoredResource> = new Map();

/** Delta xDS state of one type on one stream. */
interface DeltaTypeState {
  readonly typeUrl: string;
  wildcard: boolean;
  /** Explicitly subscribed names (on-demand, e.g. `network/IP`). */
  readonly names: Set<string>;
  /** name -> version the client holds: its initial_resource_versions, then what we sent (even if NACKed,
   * so a rejected version is never resent; only a newer one is). */
  readonly have: HeldVersions;
  /** Names to reconcile on the next push; bounded by the number of resources, never a queue of pushes. */
  readonly dirty: Set<string>;
  /** Reconcile every resource and every held name (first request, wildcard change). */
  fullSync: boolean;
  /** Respond even when nothing differs (the first request must always get an answer). */
  mustRespond: boolean;
  /** Explicit names that must be reported as removed if they do not exist. */
  readonly reportAbsent: Set<string>;
  sentNonce: string;
  ackedNonce: string;
  nackError: string | undefined;
  /** One un-ACKed response per type at a time, as Envoy and istiod do. */
  inFlight: boolean;
  /** When the oldest change not yet written arrived (for pilot_xds_push_time). */
  pendingSinceMs: number | undefined;
}

export class DeltaConnection implements XdsConnection {
  private readonly types = new Map<string, DeltaTypeState>();
  private readonly connectedAt = new Date();
  private readonly out: ConnectionWriter;
  private closed = false;

  constructor(
    readonly id: string,
    readonly node: ProxyNode,
    readonly principal: XdsPrincipal,
    private readonly ctx: ConnectionContext,
    write: WriteFn,
  ) {
    this.out = new ConnectionWriter(ctx.budget, write);
  }

  onRequest(req: DeltaDiscoveryRequest): void {
    let st = this.types.get(req.typeUrl);
    if (st === undefined) {
      st = this.firstRequest(req);
    } else {
      if (req.responseNonce !== '') this.onAckOrNack(st, req);
      this.applySubscriptions(st, req.resourceNamesSubscribe, req.resourceNamesUnsubscribe);
    }
    this.tryPush(st);
  }

  enqueue(typeUrl: string, names: ReadonlySet<string>): void {
    const st = this.types.get(typeUrl);
    if (st === undefined) return;
    if (st.pendingSinceMs === undefined) st.pendingSinceMs = performance.now();
    for (const n of names) st.dirty.add(n);
    this.tryPush(st);
  }

  close(): void {
    this.closed = true;
    this.out.close();
  }

  private firstRequest(req: DeltaDiscoveryRequest): DeltaTypeState {
    const subscribe = req.resourceNamesSubscribe;
    const st: DeltaTypeState = {
      typeUrl: req.typeUrl,
      // Envoy delta protocol: an empty first subscribe list means wildcard; "*" asks for it explicitly.
      wildcard: subscribe.length === 0,
      names: new Set(),
      have: new HeldVersions(Object.entries(req.initialResourceVersions)),
      dirty: new Set(),
      fullSync: true,
      mustRespond: true,
      reportAbsent: new Set(),
      sentNonce: '',
      ackedNonce: '',
      nackError: undefined,
      inFlight: false,
      pendingSinceMs: performance.now(),
    };
    this.types.set(req.typeUrl, st);
    this.applySubscriptions(st, subscribe, req.resourceNamesUnsubscribe);
    if (!this.ctx.store.typeUrls.includes(req.typeUrl)) {
      this.ctx.logger?.warn({ connection: this.id, typeUrl: req.typeUrl }, 'client subscribed to a type this istiod does not serve; it will get empty responses');
    }
    return st;
  }

  private applySubscriptions(st: DeltaTypeState, subscribe: readonly string[], unsubscribe: readonly string[]): void {
    for (const name of subscribe) {
      if (name === WILDCARD) {
        if (!st.wildcard) st.fullSync = true;
        st.wildcard = true;
      } else {
        st.names.add(name);
        st.dirty.add(name);
        st.reportAbsent.add(name);
      }
    }
    for (const name of unsubscribe) {
      if (name === WILDCARD) {
        if (st.wildcard) st.fullSync = true;
        st.wildcard = false;
      } else {
        st.names.delete(name);
        // The client drops an unsubscribed resource itself; no removal is sent for it.
        if (!st.wildcard) st.have.delete(name);
      }
    }
  }

  private onAckOrNack(st: DeltaTypeState, req: DeltaDiscoveryRequest): void {
    // A nonce that is not the latest we sent answers a superseded response: ignore it (Envoy xDS protocol).
    if (req.responseNonce !== st.sentNonce) {
      this.ctx.logger?.debug({ connection: this.id, typeUrl: st.typeUrl, nonce: req.responseNonce }, 'stale nonce ignored');
      return;
    }
    st.inFlight = false;
    const err = req.errorDetail;
    if (err !== undefined && (err.code !== 0 || err.message !== '')) {
      st.nackError = err.message;
      this.ctx.metrics?.rejects.inc({ type: metricType(st.typeUrl) });
      this.ctx.logger?.warn(
        { connection: this.id, node: this.node.id, typeUrl: st.typeUrl, nonce: req.responseNonce, code: err.code, error: err.message },
        'xDS client rejected (NACKed) a response; it keeps its previous config, the same version is not resent',
      );
      this.ctx.emitNack({ connectionId: this.id, typeUrl: st.typeUrl, nonce: req.responseNonce, code: err.code, message: err.message });
    } else {
      st.ackedNonce = req.responseNonce;
      st.nackError = undefined;
    }
  }

  private tryPush(st: DeltaTypeState): void {
    if (this.closed || st.inFlight) return;
    if (!st.fullSync && st.dirty.size === 0 && !st.mustRespond) return;
    const snap = this.ctx.store.snapshot(st.typeUrl) ?? EMPTY;
    const work = st.fullSync ? (st.wildcard ? snap.size : 0) + st.names.size + st.have.size : st.dirty.size;
    if (!this.out.admit(work, () => this.retryPushes())) return;
    const resources: StoredResource[] = [];
    const removed: string[] = [];
    // After a full sync of a plain wildcard subscription the client holds exactly the snapshot.
    const holdsSnapshot = st.fullSync && st.wildcard && st.names.size === 0;
    if (st.fullSync && st.wildcard && st.names.size === 0 && st.have.size === 0) {
      // A fresh wildcard stream (the common first connect): every name once, no dedup set needed.
      for (const name of snap.keys()) this.reconcile(st, snap, name, resources, removed);
    } else if (st.fullSync) {
      // A name can be in the snapshot, the explicit names and the held set: decide each once.
      const seen = new Set<string>();
      const visit = (name: string): void => {
        if (seen.has(name)) return;
        seen.add(name);
        this.reconcile(st, snap, name, resources, removed);
      };
      if (st.wildcard) for (const name of snap.keys()) visit(name);
      for (const name of st.names) visit(name);
      for (const name of [...st.have.keys()]) visit(name);
    } else {
      for (const name of st.dirty) this.reconcile(st, snap, name, resources, removed);
    }
    st.fullSync = false;
    st.dirty.clear();
    st.reportAbsent.clear();
    if (resources.length === 0 && removed.length === 0 && !st.mustRespond) {
      st.pendingSinceMs = undefined;
      return;
    }
    st.mustRespond = false;
    this.send(st, resources, removed, holdsSnapshot);
  }

  private retryPushes(): void {
    for (const st of this.types.values()) this.tryPush(st);
  }

  /** Decide what the client needs for one name. */
  private reconcile(st: DeltaTypeState, snap: ReadonlyMap<string, StoredResource>, name: string, out: StoredResource[], removed: string[]): void {
    const held = st.have.get(name);
    const r = snap.get(name);
    const subscribed = st.wildcard || st.names.has(name);
    if (!subscribed) {
      st.have.delete(name);
    } else if (r !== undefined) {
      if (held !== r.version) out.push(r);
    } else if (held !== undefined || st.reportAbsent.has(name)) {
      removed.push(name);
    }
  }

  private send(st: DeltaTypeState, resources: readonly StoredResource[], removed: readonly string[], holdsSnapshot: boolean): void {
    const nonce = this.ctx.newNonce();
    const bytes = encodeDeltaResponse({
      systemVersionInfo: this.ctx.systemVersion(),
      typeUrl: st.typeUrl,
      nonce,
      resources: resources.map((r) => r.encodedDelta),
      removed,
    });
    if (holdsSnapshot) {
      st.have.adopt(this.ctx.baseline(st.typeUrl));
    } else {
      for (const r of resources) st.have.set(r.name, r.version);
      for (const name of removed) st.have.delete(name);
    }
    st.sentNonce = nonce;
    st.inFlight = true;
    this.recordPush(st, bytes.byteLength);
    this.out.send(bytes);
    if (!this.ctx.pushListened()) return;
    this.ctx.emitPush({
      connectionId: this.id,
      protocol: 'delta',
      typeUrl: st.typeUrl,
      nonce,
      resources: resources.map((r) => ({ name: r.name, version: r.version })),
      removed,
      bytes: bytes.byteLength,
    });
  }

  private recordPush(st: DeltaTypeState, size: number): void {
    const m = this.ctx.metrics;
    if (m !== undefined) {
      const t = m.forType(st.typeUrl);
      t.pushes.inc();
      t.configSizeBytes.observe(size);
      if (st.pendingSinceMs !== undefined) t.pushTimeSeconds.observe((performance.now() - st.pendingSinceMs) / 1000);
    }
    st.pendingSinceMs = undefined;
  }

  syncz(): SynczEntry {
    const types: SynczTypeStatus[] = [];
    for (const st of this.types.values()) {
      types.push({
        typeUrl: st.typeUrl,
        status: statusOf(st.sentNonce, st.ackedNonce, st.nackError),
        sentNonce: st.sentNonce,
        ackedNonce: st.ackedNonce,
        nackError: st.nackError,
        resourceCount: st.have.size,
        wildcard: st.wildcard,
        inFlight: st.inFlight,
      });
    }
    return {
      connectionId: this.id,
      protocol: 'delta',
      nodeId: this.node.id,
      proxyType: this.node.type,
      podName: this.node.name,
      namespace: this.node.namespace,
      ip: this.node.ip,
      nodeName: this.node.nodeName,
      clusterId: this.node.clusterId,
      identity: this.principal.identity,
      connectedAt: this.connectedAt.toISOString(),
      types,
    };
  }
}
