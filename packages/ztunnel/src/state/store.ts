// The ztunnel state store fed by delta xDS (Address + Authorization), mirroring Z:src/state.rs `ProxyState` and
// its WorkloadStore / ServiceStore / PolicyStore. Updates are incremental; queries are map lookups.
import type { Address, Authorization, Workload, workload } from '@mesh/api';
import { deriveService, deriveWorkload, serviceKey, type PortMap, type ServiceDerived, type WorkloadDerived } from './convert';
import { InvalidResourceError, StateRejectedResourcesError, type RejectedResource } from './errors';
import { addToIndex, firstOf, removeFromIndex } from './indexes';
import { canonicalIp, networkAddressKey } from './ip';
import { PolicyStore, validateAuthorization } from './policy-store';

/** A resource update as the xDS client hands it over. */
export interface ResourceUpdate<T> {
  readonly name: string;
  readonly resource: T;
}

/** A workload backing a service: its uid and its port mappings for that service (ztunnel `Endpoint`). */
export interface Endpoint {
  readonly workloadUid: string;
  readonly ports: PortMap;
}

export type AddressLookup =
  | { readonly kind: 'workload'; readonly workload: Workload }
  | { readonly kind: 'service'; readonly service: workload.Service };

type NameKind = { readonly kind: 'workload' | 'service'; readonly key: string };

const EMPTY_ENDPOINTS: ReadonlyMap<string, Endpoint> = new Map();

export class MeshState {
  private readonly workloads = new Map<string, Workload>();
  private readonly workloadDerived = new WeakMap<Workload, WorkloadDerived>();
  private readonly workloadsByAddr = new Map<string, Set<string>>();
  private readonly workloadsByNode = new Map<string, Set<string>>();
  private readonly workloadsByHostname = new Map<string, Set<string>>();
  private readonly services = new Map<string, workload.Service>();
  private readonly serviceDerived = new WeakMap<workload.Service, ServiceDerived>();
  private readonly servicesByVip = new Map<string, string>();
  private readonly servicesByHost = new Map<string, Set<string>>();
  /** service key -> uid -> endpoint. Kept even before the Service arrives (ztunnel's `staged_services`). */
  private readonly endpoints = new Map<string, Map<string, Endpoint>>();
  /** xDS name -> what it named: a removal carries only the name. */
  private readonly nameKinds = new Map<string, NameKind>();
  private readonly listeners = new Set<() => void>();
  readonly policies = new PolicyStore();
  /** Bumped on every applied change; caches (RBAC, metrics labels) compare against it. */
  generation = 0;

  // ---- xDS input ------------------------------------------------------------------------------------------

  /** Apply Address updates/removals. Valid resources are applied; invalid ones are reported by one throw. */
  applyAddresses(updates: readonly ResourceUpdate<Address>[], removed: readonly string[]): void {
    const rejected: RejectedResource[] = [];
    for (const name of removed) this.removeAddress(name);
    for (const u of updates) {
      try {
        this.upsertAddress(u.name, u.resource);
      } catch (err) {
        if (!(err instanceof InvalidResourceError)) throw err;
        rejected.push({ name: u.name, reason: err.message });
      }
    }
    this.changed();
    if (rejected.length > 0) throw new StateRejectedResourcesError({ typeName: 'Address', rejected });
  }

  applyAuthorizations(updates: readonly ResourceUpdate<Authorization>[], removed: readonly string[]): void {
    const rejected: RejectedResource[] = [];
    for (const name of removed) this.policies.remove(name);
    for (const u of updates) {
      try {
        validateAuthorization(u.resource);
        this.policies.insert(u.resource);
      } catch (err) {
        if (!(err instanceof InvalidResourceError)) throw err;
        rejected.push({ name: u.name, reason: err.message });
      }
    }
    this.changed();
    if (rejected.length > 0) throw new StateRejectedResourcesError({ typeName: 'Authorization', rejected });
  }

  /** Called after each applied batch (e.g. to wake connections waiting for their workload). */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    this.generation++;
    for (const l of this.listeners) l();
  }

  private upsertAddress(name: string, addr: Address): void {
    switch (addr.type.case) {
      case 'workload':
        this.upsertWorkload(name, addr.type.value);
        return;
      case 'service':
        this.upsertService(name, addr.type.value);
        return;
      default:
        throw new InvalidResourceError(`address ${name} carries neither a workload nor a service`);
    }
  }

  private removeAddress(name: string): void {
    const nk = this.nameKinds.get(name);
    if (nk === undefined) return;
    this.nameKinds.delete(name);
    if (nk.kind === 'workload') this.removeWorkload(nk.key);
    else this.removeService(nk.key);
  }

  private forgetName(name: string): void {
    const prev = this.nameKinds.get(name);
    if (prev !== undefined) this.removeAddress(name);
  }

  private upsertWorkload(name: string, wl: Workload): void {
    const derived = deriveWorkload(wl); // throws before anything changes
    const prev = this.nameKinds.get(name);
    if (prev !== undefined && (prev.kind !== 'workload' || prev.key !== wl.uid)) this.forgetName(name);
    const old = this.workloads.get(wl.uid);
    if (old !== undefined) this.unindexWorkload(old, derived);
    this.workloads.set(wl.uid, wl);
    this.workloadDerived.set(wl, derived);
    for (const ip of derived.ips) addToIndex(this.workloadsByAddr, networkAddressKey(wl.network, ip), wl.uid);
    if (wl.node !== '') addToIndex(this.workloadsByNode, wl.node, wl.uid);
    if (wl.hostname !== '') addToIndex(this.workloadsByHostname, serviceKey(wl.namespace, wl.hostname), wl.uid);
    for (const [svcKey, ports] of derived.services) {
      let eps = this.endpoints.get(svcKey);
      if (eps === undefined) this.endpoints.set(svcKey, (eps = new Map()));
      eps.set(wl.uid, { workloadUid: wl.uid, ports });
    }
    this.nameKinds.set(name, { kind: 'workload', key: wl.uid });
  }

  /** Drop `old`'s index entries; endpoints for services `next` still lists are overwritten, not removed. */
  private unindexWorkload(old: Workload, next: WorkloadDerived | undefined): void {
    const d = this.derivedOf(old);
    for (const ip of d.ips) removeFromIndex(this.workloadsByAddr, networkAddressKey(old.network, ip), old.uid);
    if (old.node !== '') removeFromIndex(this.workloadsByNode, old.node, old.uid);
    if (old.hostname !== '') removeFromIndex(this.workloadsByHostname, serviceKey(old.namespace, old.hostname), old.uid);
    for (const svcKey of d.services.keys()) {
      if (next?.services.has(svcKey) === true) continue;
      const eps = this.endpoints.get(svcKey);
      eps?.delete(old.uid);
      if (eps !== undefined && eps.size === 0) this.endpoints.delete(svcKey);
    }
  }

  private removeWorkload(uid: string): void {
    const old = this.workloads.get(uid);
    if (old === undefined) return;
    this.unindexWorkload(old, undefined);
    this.workloads.delete(uid);
  }

  private upsertService(name: string, svc: workload.Service): void {
    const derived = deriveService(svc);
    const prev = this.nameKinds.get(name);
    if (prev !== undefined && (prev.kind !== 'service' || prev.key !== derived.key)) this.forgetName(name);
    this.removeService(derived.key);
    this.services.set(derived.key, svc);
    this.serviceDerived.set(svc, derived);
    for (const v of derived.vips) this.servicesByVip.set(networkAddressKey(v.network, v.ip), derived.key);
    addToIndex(this.servicesByHost, svc.hostname, derived.key);
    this.nameKinds.set(name, { kind: 'service', key: derived.key });
  }

  private removeService(key: string): void {
    const old = this.services.get(key);
    if (old === undefined) return;
    for (const v of this.serviceDerivedOf(old).vips) {
      const vk = networkAddressKey(v.network, v.ip);
      if (this.servicesByVip.get(vk) === key) this.servicesByVip.delete(vk);
    }
    removeFromIndex(this.servicesByHost, old.hostname, key);
    this.services.delete(key);
  }

  // ---- queries --------------------------------------------------------------------------------------------

  get workloadCount(): number {
    return this.workloads.size;
  }

  get serviceCount(): number {
    return this.services.size;
  }

  workloadByUid(uid: string): Workload | undefined {
    return this.workloads.get(uid);
  }

  /** Workload owning `ip` on `network` (ip as text; v4-mapped v6 is folded to v4). */
  workloadByAddress(network: string, ip: string): Workload | undefined {
    const uid = firstOf(this.workloadsByAddr.get(networkAddressKey(network, canonicalIp(ip) ?? ip)));
    return uid === undefined ? undefined : this.workloads.get(uid);
  }

  serviceByVip(network: string, ip: string): workload.Service | undefined {
    const key = this.servicesByVip.get(networkAddressKey(network, canonicalIp(ip) ?? ip));
    return key === undefined ? undefined : this.services.get(key);
  }

  serviceByKey(key: string): workload.Service | undefined {
    return this.services.get(key);
  }

  serviceByNamespacedHostname(namespace: string, hostname: string): workload.Service | undefined {
    return this.services.get(serviceKey(namespace, hostname));
  }

  servicesByHostname(hostname: string): workload.Service[] {
    const keys = this.servicesByHost.get(hostname);
    if (keys === undefined) return [];
    const out: workload.Service[] = [];
    for (const k of keys) {
      const s = this.services.get(k);
      if (s !== undefined) out.push(s);
    }
    return out;
  }

  /** ztunnel `find_address`: a workload IP wins over a service VIP. */
  findAddress(network: string, ip: string): AddressLookup | undefined {
    const wl = this.workloadByAddress(network, ip);
    if (wl !== undefined) return { kind: 'workload', workload: wl };
    const svc = this.serviceByVip(network, ip);
    return svc === undefined ? undefined : { kind: 'service', service: svc };
  }

  /** ztunnel `find_hostname`: services first, then workloads with that hostname in that namespace. */
  findHostname(namespace: string, hostname: string): AddressLookup | undefined {
    const svc = this.serviceByNamespacedHostname(namespace, hostname);
    if (svc !== undefined) return { kind: 'service', service: svc };
    const uid = firstOf(this.workloadsByHostname.get(serviceKey(namespace, hostname)));
    const wl = uid === undefined ? undefined : this.workloads.get(uid);
    return wl === undefined ? undefined : { kind: 'workload', workload: wl };
  }

  /** Endpoints of a service key (`namespace/hostname`), whether or not the Service itself has arrived yet. */
  endpointsOf(key: string): ReadonlyMap<string, Endpoint> {
    return this.endpoints.get(key) ?? EMPTY_ENDPOINTS;
  }

  /** Services a workload is an endpoint of (ztunnel `get_by_workload`). */
  servicesOfWorkload(wl: Workload): workload.Service[] {
    const out: workload.Service[] = [];
    for (const key of this.derivedOf(wl).services.keys()) {
      const s = this.services.get(key);
      if (s !== undefined) out.push(s);
    }
    return out;
  }

  workloadsOnNode(node: string): Workload[] {
    const out: Workload[] = [];
    for (const uid of this.workloadsByNode.get(node) ?? []) {
      const wl = this.workloads.get(uid);
      if (wl !== undefined) out.push(wl);
    }
    return out;
  }

  /** Canonical IP texts of a workload (derived once per Workload object). */
  workloadIps(wl: Workload): readonly string[] {
    return this.derivedOf(wl).ips;
  }

  /** This workload's port map for a service, if it is an endpoint of it. */
  workloadServicePorts(wl: Workload, key: string): PortMap | undefined {
    return this.derivedOf(wl).services.get(key);
  }

  servicePorts(svc: workload.Service): PortMap {
    return this.serviceDerivedOf(svc).ports;
  }

  serviceVips(svc: workload.Service): ServiceDerived['vips'] {
    return this.serviceDerivedOf(svc).vips;
  }

  allWorkloads(): IterableIterator<Workload> {
    return this.workloads.values();
  }

  allServices(): IterableIterator<workload.Service> {
    return this.services.values();
  }

  /** Policies that apply to a destination workload, in ztunnel's order (namespace, global, selector). */
  applicablePolicies(wl: Workload): Authorization[] {
    const out: Authorization[] = [];
    const push = (key: string): void => {
      const p = this.policies.get(key);
      if (p !== undefined) out.push(p); // unknown keys: istiod has not sent it yet (ztunnel warns and skips)
    };
    for (const k of this.policies.keysForNamespace(wl.namespace)) push(k);
    for (const k of this.policies.keysForNamespace('')) push(k);
    for (const k of wl.authorizationPolicies) push(k);
    return out;
  }

  private derivedOf(wl: Workload): WorkloadDerived {
    let d = this.workloadDerived.get(wl);
    if (d === undefined) {
      // A Workload built outside the store (e.g. from tests or ZDS); derive on demand and remember it.
      d = deriveWorkload(wl);
      this.workloadDerived.set(wl, d);
    }
    return d;
  }

  private serviceDerivedOf(svc: workload.Service): ServiceDerived {
    let d = this.serviceDerived.get(svc);
    if (d === undefined) {
      d = deriveService(svc);
      this.serviceDerived.set(svc, d);
    }
    return d;
  }
}
