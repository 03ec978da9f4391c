import type { MeshResource, ResourceIssue, ResourceKey, ResourceOrigin, ResourceTypes } from '@mesh/api';

export type ConfigEventType = 'add' | 'update' | 'delete';

/**
 * One validated change to the cluster/config state. Both the directory and the Kubernetes source end up
 * here (through ConfigStore), so the ambient index cannot tell them apart.
 */
export interface ConfigEvent<K extends ResourceKey = ResourceKey> {
  readonly type: ConfigEventType;
  /** `ResourceTypes` key: `Pod`, `security.istio.io/AuthorizationPolicy`, ... */
  readonly kind: K;
  /** Empty for cluster-scoped kinds. */
  readonly namespace: string;
  readonly name: string;
  /** The object after the change; for `delete`, the last known object. */
  readonly object: ResourceTypes[K];
}

export type AnyConfigEvent = { [K in ResourceKey]: ConfigEvent<K> }[ResourceKey];

/**
 * What a source hands to the store: an unvalidated object (upsert) or a key (delete). Sources never
 * decide validity; the store does, so both sources report problems the same way.
 */
export type RawConfigChange =
  | { readonly op: 'upsert'; readonly object: unknown; readonly origin?: ResourceOrigin }
  | { readonly op: 'delete'; readonly kind: ResourceKey; readonly namespace: string; readonly name: string };

/** A rejected object: logged, handed to `onInvalid`, and otherwise ignored. */
export interface InvalidResourceReport {
  /** `Kind namespace/name` as far as it could be read. */
  readonly resource: string;
  readonly source?: string;
  readonly issues: readonly ResourceIssue[];
}

export type ConfigEventListener = (event: AnyConfigEvent) => void;

/**
 * Brackets a batch of events (an initial scan, a re-list, one directory rescan): a consumer that
 * recomputes derived state can do so once at `end` instead of once per event.
 */
export interface ConfigBatchListener {
  begin(): void;
  end(): void;
}

/** Kinds without a namespace; everything else defaults to `default` like kubectl does. */
export const CLUSTER_SCOPED_KINDS: ReadonlySet<ResourceKey> = new Set<ResourceKey>([
  'Namespace',
  'Node',
  'gateway.networking.k8s.io/GatewayClass',
]);

export const DEFAULT_NAMESPACE = 'default';

export function objectKey(kind: string, namespace: string, name: string): string {
  return `${kind}|${namespace}|${name}`;
}

export type { MeshResource };
