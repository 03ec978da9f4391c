import type { wkt } from '@mesh/api';
import { storedResource, type ResourceChangeListener, type ResourceStore, type StoredResource } from './resource';

/**
 * A simple in-memory ResourceStore: istiod's model (or a test) sets and deletes packed resources and the
 * store encodes each new version once and notifies the xDS server. Setting identical bytes is a no-op.
 */
export class MemoryResourceStore implements ResourceStore {
  readonly typeUrls: readonly string[];
  private readonly maps = new Map<string, Map<string, StoredResource>>();
  private readonly listeners = new Set<ResourceChangeListener>();

  constructor(typeUrls: readonly string[]) {
    this.typeUrls = [...typeUrls];
    for (const t of typeUrls) this.maps.set(t, new Map());
  }

  snapshot(typeUrl: string): ReadonlyMap<string, StoredResource> | undefined {
    return this.maps.get(typeUrl);
  }

  onChange(listener: ResourceChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Upsert resources of one type; returns the names whose version actually changed. */
  set(typeUrl: string, resources: Iterable<{ name: string; any: wkt.Any; version?: string }>): string[] {
    const map = this.mapOf(typeUrl);
    const changed: string[] = [];
    for (const r of resources) {
      const next = storedResource(r.name, r.any, r.version);
      if (map.get(r.name)?.version === next.version) continue;
      map.set(r.name, next);
      changed.push(r.name);
    }
    if (changed.length > 0) this.emit(typeUrl, changed, []);
    return changed;
  }

  /** Delete resources of one type; returns the names that existed. */
  delete(typeUrl: string, names: Iterable<string>): string[] {
    const map = this.mapOf(typeUrl);
    const removed: string[] = [];
    for (const name of names) if (map.delete(name)) removed.push(name);
    if (removed.length > 0) this.emit(typeUrl, [], removed);
    return removed;
  }

  private mapOf(typeUrl: string): Map<string, StoredResource> {
    let map = this.maps.get(typeUrl);
    if (map === undefined) {
      map = new Map();
      this.maps.set(typeUrl, map);
      (this.typeUrls as string[]).push(typeUrl);
    }
    return map;
  }

  private emit(typeUrl: string, changed: readonly string[], removed: readonly string[]): void {
    for (const l of this.listeners) l(typeUrl, changed, removed);
  }
}
