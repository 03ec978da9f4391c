import { ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL } from '@mesh/api';
import type { Logger } from '@mesh/core';
import type { NodePodIndex } from '../ca';
import type { ConfigStore } from '../config';
import type { StatusCondition } from '../model';
import type { MeshH2UpgradePolicy } from '../waypoint';
import { MemoryResourceStore, type ResourceStore } from '../xds';

/** Mesh-wide settings handed to the ambient index (structurally the model's MeshOptions). */
export interface MeshSettings {
  readonly clusterId: string;
  readonly domainSuffix: string;
  readonly rootNamespace: string;
  readonly trustDomain: string;
  readonly network: string;
  readonly h2UpgradePolicy?: MeshH2UpgradePolicy;
}

/** What istiod needs from its model: the xDS resources to serve and, optionally, the CA's node/pod view. */
export interface ModelHandle {
  readonly xdsStore: ResourceStore;
  /** When absent, istiod keeps its own InMemoryNodePodIndex fed from Pod events. */
  readonly nodePodIndex?: NodePodIndex;
  /** Model state for /debug/configz (e.g. waypoint compiler warnings). */
  debug?(): Record<string, unknown>;
  /** Conditions to write back to objects' status in Kubernetes mode (waypoint bindings, policy conversion). */
  conditions?(): readonly StatusCondition[];
  stop?(): void;
}

/** Builds the model over the validated config store; it must subscribe before the config source starts. */
export type ModelFactory = (config: ConfigStore, mesh: MeshSettings, logger: Logger) => ModelHandle;

/** A model with no resources (tests of the transport and CA that must not depend on the index). */
export const emptyModel: ModelFactory = () => ({ xdsStore: new MemoryResourceStore([ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL]) });
