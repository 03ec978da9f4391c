// The xDS sink in multi-worker mode: applies an accepted delta to the main thread's MeshState (config dump,
// certificate prefetch) and forwards the same resources, as proto bytes, to every worker. The returned
// promise settles when every worker has applied the delta; the xDS client sends its ACK only then, so once
// istiod sees the ACK every worker decides and authorizes with the new state.
import { AddressSchema, AuthorizationSchema, toBinary, type Address, type Authorization } from '@mesh/api';
import type { XdsStateSink } from '../app/xds';
import type { MeshState, ResourceUpdate } from '../state/index';
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
    this.state.applyAddresses(updates, removed); // throws (NACK) before anything is forwarded
    record(this.addresses, updates, removed);
    return this.send({ kind: 'address', updates: updates.map((u) => [u.name, toBinary(AddressSchema, u.resource)] as const), removed });
  }

  applyAuthorizations(updates: readonly ResourceUpdate<Authorization>[], removed: readonly string[]): Promise<void> {
    this.state.applyAuthorizations(updates, removed);
    record(this.authorizations, updates, removed);
    return this.send({ kind: 'authorization', updates: updates.map((u) => [u.name, toBinary(AuthorizationSchema, u.resource)] as const), removed });
  }

  private send(delta: XdsDelta): Promise<void> {
    return this.forward === undefined ? Promise.resolve() : this.forward(delta);
  }
}

function record<T>(into: Map<string, T>, updates: readonly ResourceUpdate<T>[], removed: readonly string[]): void {
  for (const name of removed) into.delete(name);
  for (const u of updates) into.set(u.name, u.resource);
}
