import type { DiscoveryRequest } from '@mesh/api';
import type { XdsPrincipal } from './auth';
import { statusOf, type ConnectionContext, type SynczEntry, type XdsConnection } from './connection-types';
import { ConnectionWriter, type WriteFn } from './connection-writer';
import { metricType } from './metrics';
import type { ProxyNode } from './node';
import type { StoredResource } from './resource';
import { encodeSotwResponse } from './wire';

interface SotwTypeState {
  readonly typeUrl: string;
  /** Empty = all resources of the type. */
  names: ReadonlySet<string>;
  dirty: boolean;
  inFlight: boolean;
  sentNonce: string;
  ackedNonce: string;
  nackError: string | undefined;
  resourceCount: number;
  pendingSinceMs: number | undefined;
}

function sameNames(a: ReadonlySet<string>, b: readonly string[]): boolean {
  return a.size === b.length && b.every((n) => a.has(n));
}

/**
 * State-of-the-world ADS: every response carries the full (optionally name-filtered) set of a type.
 * istiod answers SotW for the ambient types by wrapping its delta generator (pilot/pkg/xds/workload.go);
 * ztunnel itself only uses delta. Same flow control as delta: one un-ACKed response per type.
 */
export class SotwConnection implements XdsConnection {
  private readonly types = new Map<string, SotwTypeState>();
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

  onRequest(req: DiscoveryRequest): void {
    let st = this.types.get(req.typeUrl);
    if (st === undefined) {
      st = { typeUrl: req.typeUrl, names: new Set(req.resourceNames), dirty: true, inFlight: false, sentNonce: '', ackedNonce: '', nackError: undefined, resourceCount: 0, pendingSinceMs: performance.now() };
      this.types.set(req.typeUrl, st);
    } else {
      if (req.responseNonce !== st.sentNonce) return; // superseded response: ignore
      st.inFlight = false;
      const err = req.errorDetail;
      if (err !== undefined && (err.code !== 0 || err.message !== '')) {
        st.nackError = err.message;
        this.ctx.metrics?.rejects.inc({ type: metricType(st.typeUrl) });
        this.ctx.logger?.warn({ connection: this.id, node: this.node.id, typeUrl: st.typeUrl, error: err.message }, 'xDS client NACKed a SotW response');
        this.ctx.emitNack({ connectionId: this.id, typeUrl: st.typeUrl, nonce: req.responseNonce, code: err.code, message: err.message });
      } else {
        st.ackedNonce = req.responseNonce;
        st.nackError = undefined;
      }
      if (!sameNames(st.names, req.resourceNames)) {
        st.names = new Set(req.resourceNames);
        st.dirty = true;
      }
    }
    this.tryPush(st);
  }

  enqueue(typeUrl: string, names: ReadonlySet<string>): void {
    const st = this.types.get(typeUrl);
    if (st === undefined) return;
    if (st.names.size > 0 && ![...names].some((n) => st.names.has(n))) return;
    st.dirty = true;
    if (st.pendingSinceMs === undefined) st.pendingSinceMs = performance.now();
    this.tryPush(st);
  }

  close(): void {
    this.closed = true;
    this.out.close();
  }

  private tryPush(st: SotwTypeState): void {
    if (this.closed || st.inFlight || !st.dirty) return;
    const snap: ReadonlyMap<string, StoredResource> = this.ctx.store.snapshot(st.typeUrl) ?? new Map();
    if (!this.out.admit(st.names.size === 0 ? snap.size : st.names.size, () => this.tryPush(st))) return;
    const chosen: StoredResource[] = [];
    if (st.names.size === 0) {
      for (const r of snap.values()) chosen.push(r);
    } else {
      for (const n of st.names) {
        const r = snap.get(n);
        if (r !== undefined) chosen.push(r);
      }
    }
    const nonce = this.ctx.newNonce();
    const bytes = encodeSotwResponse({ versionInfo: this.ctx.systemVersion(), typeUrl: st.typeUrl, nonce, resources: chosen.map((r) => r.encodedAny) });
    st.dirty = false;
    st.inFlight = true;
    st.sentNonce = nonce;
    st.resourceCount = chosen.length;
    const m = this.ctx.metrics;
    if (m !== undefined) {
      const t = m.forType(st.typeUrl);
      t.pushes.inc();
      t.configSizeBytes.observe(bytes.byteLength);
      if (st.pendingSinceMs !== undefined) t.pushTimeSeconds.observe((performance.now() - st.pendingSinceMs) / 1000);
    }
    st.pendingSinceMs = undefined;
    this.out.send(bytes);
    if (!this.ctx.pushListened()) return;
    this.ctx.emitPush({
      connectionId: this.id,
      protocol: 'sotw',
      typeUrl: st.typeUrl,
      nonce,
      resources: chosen.map((r) => ({ name: r.name, version: r.version })),
      removed: [],
      bytes: bytes.byteLength,
    });
  }

  syncz(): SynczEntry {
    return {
      connectionId: this.id,
      protocol: 'sotw',
      nodeId: this.node.id,
      proxyType: this.node.type,
      podName: this.node.name,
      namespace: this.node.namespace,
      ip: this.node.ip,
      nodeName: this.node.nodeName,
      clusterId: this.node.clusterId,
      identity: this.principal.identity,
      connectedAt: this.connectedAt.toISOString(),
      types: [...this.types.values()].map((st) => ({
        typeUrl: st.typeUrl,
        status: statusOf(st.sentNonce, st.ackedNonce, st.nackError),
        sentNonce: st.sentNonce,
        ackedNonce: st.ackedNonce,
        nackError: st.nackError,
        resourceCount: st.resourceCount,
        wildcard: st.names.size === 0,
        inFlight: st.inFlight,
      })),
    };
  }
}
