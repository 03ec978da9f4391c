// The xDS sink in multi-worker mode: applies an accepted delta to the main thread's MeshState (config dump,
// certificate prefetch) and forwards the same resources, as proto bytes, to every worker. The returned
// promise settles when every worker has applied the delta; the xDS client sends its ACK only then, so once
// istiod sees the ACK every worker decides and authorizes with the new state.
import { AddressSchema, AuthorizationSchema, toBinary, type Address, type Authorization } from '@mesh/api';
import type { XdsStateSink } from '../app/xds';
import { StateRejectedResourcesError, type MeshState, type ResourceUpdate } from '../state/index';
import type { XdsDelta } from './protocol';

export type DeltaForwarder = (delta: XdsDelta) => Promise<void>;

export class StateFanout implements XdsStateSink {
  /** Accepted resources by name, re-sent as a snapshot to a worker that starts later. */
  private readonly addresses = new Map<string, Address>();
  private readonly authorizations = new Map<string, Authorization>();
  private forward: DeltaForwarder | undefined;

  constructor(readonly state: MeshState) {}

  /** Deltas from here on go to `forward`; returns the snapshot of everything accepted before. */
  connect(forward: DeltaForwarder): XdsDelta[] {
    this.forward = forward;
    return [
      { kind: 'address', updates: [...this.addresses].map(([n, r]) => [n, toBinary(AddressSchema, r)] as const), removed: [] },
      { kind: 'authorization', updates: [...this.authorizations].map(([n, r]) => [n, toBinary(AuthorizationSchema, r)] as const), removed: [] },
    ];
  }

  disconnect(): void {
    this.forward = undefined;
  }

  applyAddresses(updates: readonly ResourceUpdate<Address>[], removed: readonly string[]): Promise<void> {
    return this.fanOut(() => this.state.applyAddresses(updates, removed), this.addresses, updates, removed,
      (accepted) => ({ kind: 'address', updates: accepted.map((u) => [u.name, toBinary(AddressSchema, u.resource)] as const), removed }));
  }

  applyAuthorizations(updates: readonly ResourceUpdate<Authorization>[], removed: readonly string[]): Promise<void> {
    return this.fanOut(() => this.state.applyAuthorizations(updates, removed), this.authorizations, updates, removed,
      (accepted) => ({ kind: 'authorization', updates: accepted.map((u) => [u.name, toBinary(AuthorizationSchema, u.resource)] as const), removed }));
  }

  /**
   * The main store keeps the valid resources of a partly rejected batch (and NACKs it): the workers get the
   * same accepted part, and the rejection is rethrown once they applied it. A batch with nothing accepted
   * throws at once, before anything is forwarded.
   */
  private fanOut<T>(
    applyMain: () => void, into: Map<string, T>, updates: readonly ResourceUpdate<T>[], removed: readonly string[],
    delta: (accepted: readonly ResourceUpdate<T>[]) => XdsDelta,
  ): Promise<void> {
    let rejection: StateRejectedResourcesError | undefined;
    try {
      applyMain();
    } catch (err) {
      if (!(err instanceof StateRejectedResourcesError)) throw err;
      rejection = err as StateRejectedResourcesError;
    }
    let accepted = updates;
    if (rejection !== undefined) {
      const bad = new Set(rejection.details.rejected.map((r) => r.name));
      accepted = updates.filter((u) => !bad.has(u.name));
      if (accepted.length === 0 && removed.length === 0) throw rejection;
    }
    record(into, accepted, removed);
    const sent = this.send(delta(accepted));
    if (rejection === undefined) return sent;
    const err = rejection;
    return sent.then(() => Promise.reject(err));
  }

  private send(delta: XdsDelta): Promise<void> {
    return this.forward === undefined ? Promise.resolve() : this.forward(delta);
  }
}

function record<T>(into: Map<string, T>, updates: readonly ResourceUpdate<T>[], removed: readonly string[]): void {
  for (const name of removed) into.delete(name);
  for (const u of updates) into.set(u.name, u.resource);
}
