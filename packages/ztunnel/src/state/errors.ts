import { defineMeshError, MeshError } from '@mesh/core';

/** One xDS resource the store refused, with the reason (becomes part of the NACK's error_detail). */
export interface RejectedResource {
  readonly name: string;
  readonly reason: string;
}

/**
 * Thrown by `applyAddresses` / `applyAuthorizations` after applying every valid resource of the batch, when some
 * could not be applied. ztunnel's ProxyStateUpdater does the same: good resources are kept, the response is NACKed
 * with the list of rejected ones (Z:src/state.rs, Z:src/xds.rs).
 */
export const StateRejectedResourcesError = defineMeshError(
  'STATE_REJECTED_RESOURCES',
  'StateRejectedResourcesError',
  (d: { typeName: string; rejected: readonly RejectedResource[] }) =>
    `rejected ${d.rejected.length} ${d.typeName} resource(s): ` +
    d.rejected.map((r) => `${r.name}: ${r.reason}`).join('; ') +
    `; check istiod's generated config for these resources (istioctl ztunnel-config)`,
);
export type StateRejectedResourcesError = InstanceType<typeof StateRejectedResourcesError>;

/** A single resource is invalid; collected into {@link StateRejectedResourcesError}. */
export class InvalidResourceError extends MeshError {
  constructor(reason: string) {
    super('STATE_INVALID_RESOURCE', reason);
  }
}
