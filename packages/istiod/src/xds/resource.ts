import { createHash } from 'node:crypto';
import { create, discovery, toBinary, wkt } from '@mesh/api';

/**
 * One resource version, encoded once. Every connection that receives this version reuses the cached
 * bytes (`encodedDelta` is a whole envoy Resource message, `encodedAny` the packed google.protobuf.Any
 * for state-of-the-world), so a push to N clients never re-encodes the resource N times.
 */
export interface StoredResource {
  readonly name: string;
  /** Per-resource version: a content hash unless the producer supplied its own. */
  readonly version: string;
  readonly any: wkt.Any;
  readonly encodedDelta: Uint8Array;
  readonly encodedAny: Uint8Array;
}

/**
 * What istiod's model implements to feed the xDS server. Snapshots are read at push time, so a slow
 * client always gets the latest state; `onChange` only says which names to look at again.
 */
export interface ResourceStore {
  /** Type URLs this store serves (others are answered with empty responses). */
  readonly typeUrls: readonly string[];
  /** The current resources of a type, keyed by resource name; undefined or empty for an unknown type. */
  snapshot(typeUrl: string): ReadonlyMap<string, StoredResource> | undefined;
  /**
   * Subscribe to changes. Listeners must be called synchronously with every change of a snapshot (the
   * server's shared baselines of snapshots are invalidated there). `changed` are names added or updated, `removed` names deleted. Returns an
   * unsubscribe function.
   */
  onChange(listener: ResourceChangeListener): () => void;
}

export type ResourceChangeListener = (typeUrl: string, changed: readonly string[], removed: readonly string[]) => void;

const VERSION_HASH_CHARS = 16;

/** Content hash of the packed bytes; equal payloads get equal versions, so no-op updates push nothing. */
export function contentVersion(any: wkt.Any): string {
  return createHash('sha256').update(any.typeUrl).update(any.value).digest('base64url').slice(0, VERSION_HASH_CHARS);
}

/** Build a StoredResource from a packed Any (see `packAny` in @mesh/api), encoding it exactly once. */
export function storedResource(name: string, any: wkt.Any, version: string = contentVersion(any)): StoredResource {
  const resource = create(discovery.ResourceSchema, { name, version, resource: any });
  return {
    name,
    version,
    any,
    encodedDelta: toBinary(discovery.ResourceSchema, resource),
    encodedAny: toBinary(wkt.AnySchema, any),
  };
}
