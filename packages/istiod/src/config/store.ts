import { isDeepStrictEqual } from 'node:util';
import {
  formatIssue,
  resourceKeyOf,
  resourceLabel,
  validateResource,
  type MeshResource,
  type ResourceIssue,
  type ResourceKey,
  type ResourceOrigin,
  type ResourceTypes,
} from '@mesh/api';
import { createLogger, type Logger } from '@mesh/core';
import {
  CLUSTER_SCOPED_KINDS,
  DEFAULT_NAMESPACE,
  objectKey,
  type AnyConfigEvent,
  type ConfigBatchListener,
  type ConfigEventListener,
  type InvalidResourceReport,
  type RawConfigChange,
} from './types';

export interface ConfigStoreOptions {
  logger?: Logger;
  /** Called for every rejected object, so Kubernetes mode can later write a status condition. */
  onInvalid?: (report: InvalidResourceReport) => void;
}

/**
 * The in-memory, typed view of all config istiod reads, keyed by kind/namespace/name. Every change goes
 * through `apply`, which validates: an invalid object is reported and ignored, and a previously valid
 * version of it stays in effect (fail static: a half-edited DENY policy must not vanish). Identical
 * re-deliveries (re-lists, unchanged files) produce no event.
 */
export class ConfigStore {
  private readonly byKind = new Map<ResourceKey, Map<string, MeshResource>>();
  private readonly listeners = new Set<ConfigEventListener>();
  private readonly batchListeners = new Set<ConfigBatchListener>();
  private readonly invalidByLabel = new Map<string, InvalidResourceReport>();
  private readonly log: Logger;
  private readonly onInvalid: ((report: InvalidResourceReport) => void) | undefined;

  constructor(options: ConfigStoreOptions = {}) {
    this.log = options.logger ?? createLogger({ component: 'istiod-config' });
    this.onInvalid = options.onInvalid;
  }

  /** Subscribe to validated events; returns an unsubscribe function. */
  subscribe(listener: ConfigEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Be told where `applyAll` batches start and end; returns an unsubscribe function. */
  subscribeBatches(listener: ConfigBatchListener): () => void {
    this.batchListeners.add(listener);
    return () => this.batchListeners.delete(listener);
  }

  /** Apply one raw change; returns the event it produced, if any. Never throws. */
  apply(change: RawConfigChange): AnyConfigEvent | undefined {
    try {
      const event = change.op === 'delete' ? this.remove(change.kind, change.namespace, change.name) : this.upsert(change.object, change.origin);
      if (event !== undefined) this.emit(event);
      return event;
    } catch (err) {
      // Validation is total, so this is a bug in a listener or here; keep istiod alive and say so.
      this.log.error({ err }, 'config change could not be applied; the previous state is kept');
      return undefined;
    }
  }

  /** Apply changes as one batch: listeners see every event, batch listeners one begin/end around them. */
  applyAll(changes: Iterable<RawConfigChange>): AnyConfigEvent[] {
    const out: AnyConfigEvent[] = [];
    const batch = [...this.batchListeners];
    for (const l of batch) this.guard('begin', () => l.begin());
    try {
      for (const c of changes) {
        const e = this.apply(c);
        if (e !== undefined) out.push(e);
      }
    } finally {
      for (const l of batch) this.guard('end', () => l.end());
    }
    return out;
  }

  private guard(phase: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err, phase }, 'config batch listener failed');
    }
  }

  get<K extends ResourceKey>(kind: K, namespace: string, name: string): ResourceTypes[K] | undefined {
    return this.byKind.get(kind)?.get(`${namespace}/${name}`) as ResourceTypes[K] | undefined;
  }

  list<K extends ResourceKey>(kind: K, namespace?: string): ResourceTypes[K][] {
    const all = [...(this.byKind.get(kind)?.values() ?? [])] as ResourceTypes[K][];
    return namespace === undefined ? all : all.filter((o) => (o.metadata.namespace ?? '') === namespace);
  }

  /** Objects currently rejected, by `Kind ns/name` (for status writers and debug endpoints). */
  invalidResources(): readonly InvalidResourceReport[] {
    return [...this.invalidByLabel.values()];
  }

  private upsert(raw: unknown, origin: ResourceOrigin | undefined): AnyConfigEvent | undefined {
    const result = validateResource(raw, origin);
    const label = resourceLabel(raw);
    if (!result.ok) {
      this.reject(label, origin, result.errors);
      return undefined;
    }
    if (result.warnings.length > 0) {
      this.log.debug({ resource: label, warnings: result.warnings.map(formatIssue) }, 'resource accepted with warnings');
    }
    this.invalidByLabel.delete(label);
    const kind = resourceKeyOf(result.value);
    if (kind === undefined) return undefined;
    const obj = withNamespace(kind, result.value);
    const namespace = obj.metadata.namespace ?? '';
    const name = obj.metadata.name;
    const map = this.mapOf(kind);
    const key = `${namespace}/${name}`;
    const prev = map.get(key);
    if (prev !== undefined && isDeepStrictEqual(prev, obj)) return undefined;
    map.set(key, obj);
    return { type: prev === undefined ? 'add' : 'update', kind, namespace, name, object: obj } as AnyConfigEvent;
  }

  private remove(kind: ResourceKey, namespace: string, name: string): AnyConfigEvent | undefined {
    const ns = CLUSTER_SCOPED_KINDS.has(kind) ? '' : namespace;
    const map = this.byKind.get(kind);
    const key = `${ns}/${name}`;
    const prev = map?.get(key);
    this.invalidByLabel.delete(objectKey(kind, ns, name));
    if (map === undefined || prev === undefined) return undefined;
    map.delete(key);
    return { type: 'delete', kind, namespace: ns, name, object: prev } as AnyConfigEvent;
  }

  private reject(label: string, origin: ResourceOrigin | undefined, issues: readonly ResourceIssue[]): void {
    const report: InvalidResourceReport = { resource: label, issues, ...(origin?.source !== undefined ? { source: origin.source } : {}) };
    this.invalidByLabel.set(label, report);
    for (const issue of issues) {
      this.log.warn(
        { resource: issue.resource, source: issue.source, docIndex: issue.docIndex, path: issue.path, code: issue.code, reason: issue.message },
        `ignoring invalid resource: ${formatIssue(issue)}`,
      );
    }
    try {
      this.onInvalid?.(report);
    } catch (err) {
      this.log.error({ err, resource: label }, 'onInvalid callback failed');
    }
  }

  private mapOf(kind: ResourceKey): Map<string, MeshResource> {
    let m = this.byKind.get(kind);
    if (m === undefined) {
      m = new Map();
      this.byKind.set(kind, m);
    }
    return m;
  }

  private emit(event: AnyConfigEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        this.log.error({ err, kind: event.kind, namespace: event.namespace, name: event.name }, 'config listener failed');
      }
    }
  }
}

/** Namespaced objects without a namespace get `default` (kubectl's behaviour); cluster-scoped ones get none. */
function withNamespace(kind: ResourceKey, obj: MeshResource): MeshResource {
  const ns = obj.metadata.namespace;
  if (CLUSTER_SCOPED_KINDS.has(kind)) {
    if (ns === undefined) return obj;
    const meta = { ...obj.metadata };
    delete meta.namespace;
    return { ...obj, metadata: meta } as MeshResource;
  }
  if (ns !== undefined && ns !== '') return obj;
  return { ...obj, metadata: { ...obj.metadata, namespace: DEFAULT_NAMESPACE } } as MeshResource;
}
