import {
  AUTHORIZATION_TYPE_URL,
  ADDRESS_TYPE_URL,
  AddressSchema,
  AuthorizationSchema,
  equals,
  packAddress,
  packAuthorization,
  packWaypointConfig,
  WAYPOINT_CONFIG_TYPE_URL,
  type Address,
  type Authorization,
  type WaypointConfig,
} from '@mesh/api';
import { MemoryResourceStore } from '../xds/index';

/**
 * The index's published state: WDS Addresses (workloads by uid, services by `ns/hostname`) and
 * Authorizations (`ns/name`). Writes that deep-equal the current message are dropped, so an event that
 * changes nothing visible pushes nothing; changes are flushed to the xDS store in one batch per type.
 */
export class IndexOutputs {
  readonly store = new MemoryResourceStore([ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL, WAYPOINT_CONFIG_TYPE_URL]);
  readonly addresses = new Map<string, Address>();
  readonly authorizations = new Map<string, Authorization>();
  private readonly pending = { address: new Map<string, Address | undefined>(), authz: new Map<string, Authorization | undefined>() };

  setAddress(name: string, msg: Address | undefined): void {
    const cur = this.addresses.get(name);
    if (msg === undefined ? cur === undefined : cur !== undefined && equals(AddressSchema, cur, msg)) return;
    if (msg === undefined) this.addresses.delete(name);
    else this.addresses.set(name, msg);
    this.pending.address.set(name, msg);
  }

  setAuthorization(name: string, msg: Authorization | undefined): void {
    const cur = this.authorizations.get(name);
    if (msg === undefined ? cur === undefined : cur !== undefined && equals(AuthorizationSchema, cur, msg)) return;
    if (msg === undefined) this.authorizations.delete(name);
    else this.authorizations.set(name, msg);
    this.pending.authz.set(name, msg);
  }

  /** Replace the whole WaypointConfig set; the store's content versions drop unchanged configs. */
  replaceWaypointConfigs(configs: ReadonlyMap<string, WaypointConfig>): { changed: string[]; removed: string[] } {
    const current = this.store.snapshot(WAYPOINT_CONFIG_TYPE_URL) ?? new Map();
    const gone = [...current.keys()].filter((n) => !configs.has(n));
    const sets = [...configs].map(([name, cfg]) => ({ name, any: packWaypointConfig(cfg) }));
    const changed = sets.length > 0 ? this.store.set(WAYPOINT_CONFIG_TYPE_URL, sets) : [];
    const removed = gone.length > 0 ? this.store.delete(WAYPOINT_CONFIG_TYPE_URL, gone) : [];
    return { changed, removed };
  }

  /** Push pending changes to the xDS store; returns what changed per type URL. */
  flush(): Map<string, { changed: string[]; removed: string[] }> {
    const out = new Map<string, { changed: string[]; removed: string[] }>();
    const a = this.pending.address;
    const z = this.pending.authz;
    this.pending.address = new Map();
    this.pending.authz = new Map();
    out.set(ADDRESS_TYPE_URL, this.push(ADDRESS_TYPE_URL, a, packAddress));
    out.set(AUTHORIZATION_TYPE_URL, this.push(AUTHORIZATION_TYPE_URL, z, packAuthorization));
    return out;
  }

  private push<T>(typeUrl: string, pending: Map<string, T | undefined>, pack: (m: T) => ReturnType<typeof packAddress>): { changed: string[]; removed: string[] } {
    const sets: { name: string; any: ReturnType<typeof packAddress> }[] = [];
    const dels: string[] = [];
    for (const [name, msg] of pending) {
      if (msg === undefined) dels.push(name);
      else sets.push({ name, any: pack(msg) });
    }
    const changed = sets.length > 0 ? this.store.set(typeUrl, sets) : [];
    const removed = dels.length > 0 ? this.store.delete(typeUrl, dels) : [];
    return { changed, removed };
  }
}
