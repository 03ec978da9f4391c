import {
  create,
  LABELS,
  workload,
  type Address,
  type Authorization,
  type AuthorizationPolicy,
  type Gateway,
  type GatewayClass,
  type MeshResource,
  type Namespace,
  type Node,
  type PeerAuthentication,
  type Pod,
  type ResourceKey,
  type Service,
  type ServiceEntry,
  type WaypointConfig,
  type WorkloadEntry,
} from '@mesh/api';
import type { ConfigStore } from '../config/store';
import type { AnyConfigEvent } from '../config/types';
import type { ResourceChangeListener, ResourceStore, StoredResource } from '../xds/index';
import { convertAuthorizationPolicy, type ConvertedPolicy } from './authorization';
import type { StatusCondition } from './conditions';
import { isSubset, selectsNonEmpty } from './labels';
import { MultiMap } from './multimap';
import { DEFAULT_MESH_OPTIONS, type MeshOptions } from './options';
import { IndexOutputs } from './outputs';
import { CONVERTED_PEER_AUTHENTICATION_PREFIX, convertPeerAuthentication, effectivePeerAuthenticationKeys, oldestNamespacePolicy, peerAuthenticationsFor, staticStrictPolicy, STATIC_STRICT_POLICY_NAME } from './peer-authentication';
import { selectForHostname, serviceFromKube, servicesFromServiceEntry, type ServiceInfo } from './services';
import { resolveWaypoint, wantedWaypoint, waypointFromGateway, waypointKey, type Waypoint } from './waypoints';
import { serviceEntryEndpoints, workloadEntryLabels, workloadFromPod, workloadFromServiceEntryEndpoint, workloadFromWorkloadEntry } from './workloads';

// `Pod|ns/name`, `WorkloadEntry|ns/name`, `Service|ns/name`, `ServiceEntry|ns/name`, and
// `ServiceEntryEndpoint|ns/name|address` (an inline endpoint's own waypoint binding).
type Ref = string;
const ALL = '*';

/** What the index reads; namespaces and classes first so the initial batch resolves bindings in one pass. */
export const INDEXED_KINDS: readonly ResourceKey[] = [
  'Namespace',
  'Node',
  'gateway.networking.k8s.io/GatewayClass',
  'gateway.networking.k8s.io/Gateway',
  'Service',
  'networking.istio.io/ServiceEntry',
  'security.istio.io/AuthorizationPolicy',
  'security.istio.io/PeerAuthentication',
  'Pod',
  'networking.istio.io/WorkloadEntry',
];

/**
 * The ambient index: cluster state + Istio config in, WDS Addresses and Authorizations out. Each event
 * marks what it can affect (pods by namespace/node/selector, objects by the waypoint they ask for, hosts
 * by hostname) and `flush` recomputes only that, so a 10k-pod mesh never rebuilds per event. Implements
 * the xDS server's ResourceStore.
 */
export class AmbientIndex implements ResourceStore {
  readonly opts: MeshOptions;
  private readonly out = new IndexOutputs();
  private readonly namespaces = new Map<string, Namespace>();
  private readonly nodes = new Map<string, Node>();
  private readonly pods = new Map<string, Pod>();
  private readonly services = new Map<string, Service>();
  private readonly serviceEntries = new Map<string, ServiceEntry>();
  private readonly workloadEntries = new Map<string, WorkloadEntry>();
  private readonly gateways = new Map<string, Gateway>();
  private readonly gatewayClasses = new Map<string, GatewayClass>();
  private readonly authzPolicies = new Map<string, AuthorizationPolicy>();
  private readonly peerAuths = new Map<string, PeerAuthentication>();

  private readonly podsByNs = new MultiMap<string>();
  private readonly podsByNode = new MultiMap<string>();
  private readonly wesByNs = new MultiMap<string>();
  private readonly svcRefsByNs = new MultiMap<Ref>();
  private readonly authzByNs = new MultiMap<string>();
  private readonly paByNs = new MultiMap<string>();
  private readonly wantedBy = new MultiMap<Ref>();
  private readonly wanted = new Map<Ref, string>();
  private readonly refsByHost = new MultiMap<Ref>();
  private readonly hostOutputs = new Map<string, Set<string>>();
  /** WDS service key (`ns/hostname`) -> the Service/ServiceEntry ref that won it. */
  private readonly keyWinner = new Map<string, Ref>();
  /** ServiceEntry `ns/name` -> uids of the workloads made from its endpoints, and their binding refs. */
  private readonly seWorkloadUids = new Map<string, Set<string>>();
  private readonly seEndpointRefs = new Map<string, Set<Ref>>();
  private readonly warningsByResource = new Map<string, string[]>();

  private readonly waypoints = new Map<string, Waypoint>();
  private readonly serviceInfos = new Map<Ref, ServiceInfo[]>();
  /** Service/ServiceEntry ref -> key of the waypoint it is bound to (for WaypointConfig compilation). */
  private readonly boundTo = new Map<Ref, string>();
  private readonly converted = new Map<string, ConvertedPolicy>();
  private readonly paConverted = new Map<string, string>(); // PA key -> output name
  private readonly conditionsByResource = new Map<string, StatusCondition[]>();

  private readonly dirty = {
    pods: new Set<string>(),
    wes: new Set<string>(),
    svcRefs: new Set<Ref>(),
    hosts: new Set<string>(),
    gateways: new Set<string>(),
    authz: new Set<string>(),
    paNamespaces: new Set<string>(),
    seWorkloads: new Set<string>(),
  };
  private batchDepth = 0;

  constructor(
    opts: Partial<MeshOptions> = {},
    /** Told once per new or changed set of warnings of a resource (istiod logs them). */
    private readonly hooks: { onWarnings?: (resource: string, warnings: readonly string[]) => void } = {},
  ) {
    this.opts = { ...DEFAULT_MESH_OPTIONS, ...opts };
  }

  // ---- ResourceStore (what the delta xDS server reads) ----
  get typeUrls(): readonly string[] {
    return this.out.store.typeUrls;
  }
  snapshot(typeUrl: string): ReadonlyMap<string, StoredResource> | undefined {
    return this.out.store.snapshot(typeUrl);
  }
  onChange(listener: ResourceChangeListener): () => void {
    return this.out.store.onChange(listener);
  }

  /** Current WDS addresses by resource name (workload uid or `ns/hostname`). */
  addresses(): ReadonlyMap<string, Address> {
    return this.out.addresses;
  }
  authorizations(): ReadonlyMap<string, Authorization> {
    return this.out.authorizations;
  }
  /** Gateways currently acting as waypoints, by `ns/name`. */
  waypointGateways(): Map<string, Gateway> {
    const out = new Map<string, Gateway>();
    for (const k of [...this.waypoints.keys()].sort()) {
      const gw = this.gateways.get(k);
      if (gw) out.set(k, gw);
    }
    return out;
  }

  /** Services and ServiceEntry hosts bound to the waypoint `ns/name` (use-waypoint resolved and accepted). */
  servicesBoundTo(waypointKeyName: string): ServiceInfo[] {
    const out: ServiceInfo[] = [];
    for (const [ref, key] of this.boundTo) if (key === waypointKeyName) out.push(...(this.serviceInfos.get(ref) ?? []));
    return out;
  }

  /**
   * Publish compiled WaypointConfigs (by `ns/name`); names not in `configs` are removed. Identical content
   * keeps its version, so recompiling without a change pushes nothing.
   */
  publishWaypointConfigs(configs: ReadonlyMap<string, WaypointConfig>): { changed: string[]; removed: string[] } {
    return this.out.replaceWaypointConfigs(configs);
  }

  /** Problems with otherwise accepted input, by `Kind ns/name`, each naming the field (ServiceEntry endpoints). */
  warnings(): ReadonlyMap<string, readonly string[]> {
    return this.warningsByResource;
  }

  /** Status conditions to write back (waypoint bindings, policy conversion warnings). */
  conditions(): StatusCondition[] {
    return [...this.conditionsByResource.values()].flat();
  }

  /**
   * Feed from a ConfigStore: everything it holds now (one batch), then every later event. Returns the
   * unsubscribe function.
   */
  attach(store: ConfigStore): () => void {
    const initial: AnyConfigEvent[] = [];
    for (const kind of INDEXED_KINDS) {
      for (const o of store.list(kind)) {
        initial.push({ type: 'add', kind, namespace: o.metadata.namespace ?? '', name: o.metadata.name, object: o } as AnyConfigEvent);
      }
    }
    this.batch(initial);
    const unsubscribe = store.subscribe((e) => this.handle(e));
    // A store batch (initial directory scan, re-list) recomputes once at its end, not once per object:
    // 10k pods otherwise mean 10k flushes, each re-encoding and re-publishing what it touched.
    const unsubscribeBatches = store.subscribeBatches({
      begin: () => {
        this.batchDepth++;
      },
      end: () => {
        this.batchDepth--;
        if (this.batchDepth === 0) this.flush();
      },
    });
    return () => {
      unsubscribe();
      unsubscribeBatches();
    };
  }

  /** Apply one event and recompute what it affects (unless inside `batch`). */
  handle(event: AnyConfigEvent): void {
    this.apply(event);
    if (this.batchDepth === 0) this.flush();
  }

  /** Apply many events, recomputing once at the end (initial sync, re-lists). */
  batch(events: Iterable<AnyConfigEvent>): void {
    this.batchDepth++;
    try {
      for (const e of events) this.apply(e);
    } finally {
      this.batchDepth--;
    }
    if (this.batchDepth === 0) this.flush();
  }

  private apply(e: AnyConfigEvent): void {
    const key = `${e.namespace}/${e.name}`;
    const obj = e.type === 'delete' ? undefined : e.object;
    switch (e.kind) {
      case 'Namespace':
        return this.onNamespace(e.name, obj as Namespace | undefined);
      case 'Node':
        setOrDelete(this.nodes, e.name, obj as Node | undefined);
        for (const p of this.podsByNode.get(e.name)) this.dirty.pods.add(p);
        return;
      case 'Pod':
        return this.onPod(key, e.namespace, obj as Pod | undefined);
      case 'Service':
        return this.onServiceSource(`Service|${key}`, this.services, key, e.namespace, obj as Service | undefined);
      case 'networking.istio.io/ServiceEntry':
        return this.onServiceSource(`ServiceEntry|${key}`, this.serviceEntries, key, e.namespace, obj as ServiceEntry | undefined);
      case 'networking.istio.io/WorkloadEntry':
        setOrDelete(this.workloadEntries, key, obj as WorkloadEntry | undefined);
        if (obj) this.wesByNs.add(e.namespace, key);
        else this.wesByNs.delete(e.namespace, key);
        this.dirty.wes.add(key);
        return;
      case 'gateway.networking.k8s.io/Gateway':
        setOrDelete(this.gateways, key, obj as Gateway | undefined);
        this.dirty.gateways.add(key);
        return;
      case 'gateway.networking.k8s.io/GatewayClass':
        setOrDelete(this.gatewayClasses, e.name, obj as GatewayClass | undefined);
        for (const [k, g] of this.gateways) if (g.spec.gatewayClassName === e.name) this.dirty.gateways.add(k);
        return;
      case 'security.istio.io/AuthorizationPolicy':
        setOrDelete(this.authzPolicies, key, obj as AuthorizationPolicy | undefined);
        if (obj) this.authzByNs.add(e.namespace, key);
        else this.authzByNs.delete(e.namespace, key);
        this.dirty.authz.add(key);
        return;
      case 'security.istio.io/PeerAuthentication':
        setOrDelete(this.peerAuths, key, obj as PeerAuthentication | undefined);
        if (obj) this.paByNs.add(e.namespace, key);
        else this.paByNs.delete(e.namespace, key);
        this.dirty.paNamespaces.add(e.namespace === this.opts.rootNamespace ? ALL : e.namespace);
        return;
      default:
        return; // kinds the ambient index does not read (routes, telemetry, secrets, ...)
    }
  }

  private onNamespace(name: string, ns: Namespace | undefined): void {
    setOrDelete(this.namespaces, name, ns);
    for (const p of this.podsByNs.get(name)) this.dirty.pods.add(p);
    for (const w of this.wesByNs.get(name)) this.dirty.wes.add(w);
    for (const r of this.svcRefsByNs.get(name)) this.dirty.svcRefs.add(r);
  }

  private onPod(key: string, namespace: string, pod: Pod | undefined): void {
    const prev = this.pods.get(key);
    if (prev?.spec.nodeName) this.podsByNode.delete(prev.spec.nodeName, key);
    setOrDelete(this.pods, key, pod);
    if (pod) {
      this.podsByNs.add(namespace, key);
      if (pod.spec.nodeName) this.podsByNode.add(pod.spec.nodeName, key);
    } else {
      this.podsByNs.delete(namespace, key);
    }
    this.dirty.pods.add(key);
  }

  private onServiceSource<T extends MeshResource>(ref: Ref, map: Map<string, T>, key: string, namespace: string, obj: T | undefined): void {
    setOrDelete(map, key, obj);
    if (obj) this.svcRefsByNs.add(namespace, ref);
    else this.svcRefsByNs.delete(namespace, ref);
    this.dirty.svcRefs.add(ref);
  }

  /** Recompute everything marked dirty, in dependency order, and publish the differences. */
  flush(): Map<string, { changed: string[]; removed: string[] }> {
    const d = this.dirty;
    for (const k of drain(d.gateways)) this.recomputeWaypoint(k);
    for (const r of drain(d.svcRefs)) this.recomputeServiceSource(r);
    for (const h of drain(d.hosts)) this.recomputeHost(h);
    for (const k of drain(d.authz)) this.recomputeAuthz(k);
    if (d.paNamespaces.size > 0) this.recomputePeerAuthentications(drain(d.paNamespaces));
    for (const k of drain(d.pods)) this.recomputePod(k);
    for (const k of drain(d.wes)) this.recomputeWorkloadEntry(k);
    for (const k of drain(d.seWorkloads)) this.recomputeServiceEntryWorkloads(k);
    return this.out.flush();
  }

  private recomputeWaypoint(key: string): void {
    const gw = this.gateways.get(key);
    const next = gw ? waypointFromGateway(gw, this.gatewayClasses.get(gw.spec.gatewayClassName), this.opts) : undefined;
    const prev = this.waypoints.get(key);
    if (next === undefined && prev === undefined) return;
    if (next && prev && JSON.stringify(waypointView(next)) === JSON.stringify(waypointView(prev))) return;
    setOrDelete(this.waypoints, key, next);
    for (const ref of this.wantedBy.get(key)) this.markRef(ref);
  }

  private markRef(ref: Ref): void {
    const [kind, key] = splitRef(ref);
    if (kind === 'Pod') this.dirty.pods.add(key);
    else if (kind === 'WorkloadEntry') this.dirty.wes.add(key);
    else if (kind === 'ServiceEntryEndpoint') this.dirty.seWorkloads.add(key.slice(0, key.indexOf('|')));
    else this.dirty.svcRefs.add(ref);
  }

  private trackWanted(ref: Ref, meta: MeshResource['metadata'] | undefined): void {
    const prev = this.wanted.get(ref);
    const ns = meta ? this.namespaces.get(meta.namespace ?? '') : undefined;
    const next = meta ? wantedWaypoint(meta, ns) : undefined;
    if (prev === next) return;
    if (prev !== undefined) this.wantedBy.delete(prev, ref);
    if (next !== undefined) {
      this.wantedBy.add(next, ref);
      this.wanted.set(ref, next);
    } else {
      this.wanted.delete(ref);
    }
  }

  private setConditions(resource: string, type: StatusCondition['type'], conds: StatusCondition[]): void {
    const others = (this.conditionsByResource.get(resource) ?? []).filter((c) => c.type !== type);
    const all = [...others, ...conds];
    if (all.length === 0) this.conditionsByResource.delete(resource);
    else this.conditionsByResource.set(resource, all);
  }

  private recomputeServiceSource(ref: Ref): void {
    const [kind, key] = splitRef(ref);
    const obj = kind === 'Service' ? this.services.get(key) : this.serviceEntries.get(key);
    const resource = `${kind} ${key}`;
    this.trackWanted(ref, obj?.metadata);
    let infos: ServiceInfo[] = [];
    if (obj) {
      const ns = this.namespaces.get(obj.metadata.namespace ?? '');
      const binding = resolveWaypoint(resource, obj.metadata, ns, (k) => this.waypoints.get(k), 'service');
      this.setConditions(resource, 'WaypointBound', binding.condition ? [binding.condition] : []);
      if (binding.waypoint) this.boundTo.set(ref, waypointKey(binding.waypoint.namespace, binding.waypoint.name));
      else this.boundTo.delete(ref);
      infos =
        kind === 'Service'
          ? [serviceFromKube(obj as Service, binding.waypoint, this.opts)].filter((x): x is ServiceInfo => x !== undefined)
          : servicesFromServiceEntry(obj as ServiceEntry, binding.waypoint, this.opts);
    } else {
      this.setConditions(resource, 'WaypointBound', []);
      this.boundTo.delete(ref);
    }
    const prev = this.serviceInfos.get(ref) ?? [];
    if (infos.length === 0) this.serviceInfos.delete(ref);
    else this.serviceInfos.set(ref, infos);
    for (const si of prev) {
      this.refsByHost.delete(si.service.hostname, ref);
      this.dirty.hosts.add(si.service.hostname);
    }
    for (const si of infos) {
      this.refsByHost.add(si.service.hostname, ref);
      this.dirty.hosts.add(si.service.hostname);
    }
    this.markSelected(splitRef(ref)[1].split('/')[0]!, [...prev, ...infos]);
    if (kind === 'ServiceEntry') this.dirty.seWorkloads.add(key);
  }

  /** Pods/WorkloadEntries in `namespace` selected by any of `infos` (old or new) need their services map redone. */
  private markSelected(namespace: string, infos: readonly ServiceInfo[]): void {
    const selectors = infos.map((i) => i.selector).filter((s) => s !== undefined && Object.keys(s).length > 0);
    if (selectors.length === 0) return;
    for (const k of this.podsByNs.get(namespace)) {
      const labels = this.pods.get(k)?.metadata.labels;
      if (selectors.some((s) => isSubset(s!, labels))) this.dirty.pods.add(k);
    }
    for (const k of this.wesByNs.get(namespace)) {
      const we = this.workloadEntries.get(k);
      if (we && selectors.some((s) => isSubset(s!, workloadEntryLabels(we)))) this.dirty.wes.add(k);
    }
  }

  private recomputeHost(hostname: string): void {
    const candidates = [...this.refsByHost.get(hostname)].flatMap((r) => (this.serviceInfos.get(r) ?? []).filter((si) => si.service.hostname === hostname));
    const winners = selectForHostname(candidates);
    const prev = this.hostOutputs.get(hostname) ?? new Set<string>();
    const next = new Set<string>();
    for (const si of winners) {
      next.add(si.key);
      this.out.setAddress(si.key, create(workload.AddressSchema, { type: { case: 'service', value: si.service } }));
      this.setKeyWinner(si.key, `${si.source.kind}|${si.source.namespace}/${si.source.name}`);
    }
    for (const k of prev) {
      if (next.has(k)) continue;
      this.out.setAddress(k, undefined);
      this.setKeyWinner(k, undefined);
    }
    if (next.size === 0) this.hostOutputs.delete(hostname);
    else this.hostOutputs.set(hostname, next);
  }

  /** A ServiceEntry's endpoints serve only the hosts it won, so a changed winner redoes both sides' workloads. */
  private setKeyWinner(key: string, ref: Ref | undefined): void {
    const prev = this.keyWinner.get(key);
    if (prev === ref) return;
    setOrDelete(this.keyWinner, key, ref);
    for (const r of [prev, ref]) if (r?.startsWith('ServiceEntry|')) this.dirty.seWorkloads.add(splitRef(r)[1]);
  }

  private recomputeAuthz(key: string): void {
    const ap = this.authzPolicies.get(key);
    const prev = this.converted.get(key);
    const next = ap ? convertAuthorizationPolicy(ap, this.opts.rootNamespace) : undefined;
    setOrDelete(this.converted, key, next);
    this.out.setAuthorization(key, next?.authorization);
    const resource = `AuthorizationPolicy ${key}`;
    this.setConditions(resource, 'ZtunnelAccepted', next?.warning ? [{ resource, type: 'ZtunnelAccepted', status: next.authorization ? 'True' : 'False', reason: 'UnsupportedValue', message: next.warning }] : []);
    const ns = key.slice(0, key.indexOf('/'));
    const selectors = [prev?.selector, next?.selector].filter((s) => s !== undefined);
    if (selectors.length === 0) return;
    const namespaces = ns === this.opts.rootNamespace ? [...this.podsByNs.keys(), ...this.wesByNs.keys(), ...this.svcRefsByNs.keys()] : [ns];
    for (const n of new Set(namespaces)) {
      for (const k of this.podsByNs.get(n)) if (selectors.some((s) => isSubset(s!, this.pods.get(k)?.metadata.labels))) this.dirty.pods.add(k);
      for (const k of this.wesByNs.get(n)) this.dirty.wes.add(k);
      this.markServiceEntryWorkloads(n, selectors);
    }
  }

  /**
   * ServiceEntries of `namespace` whose workloads carry policies to refresh: only those that have workloads,
   * and with `selectors`, only those whose labels one of them selects (a policy cannot add or remove workloads).
   */
  private markServiceEntryWorkloads(namespace: string, selectors?: readonly Record<string, string>[]): void {
    for (const r of this.svcRefsByNs.get(namespace)) {
      if (!r.startsWith('ServiceEntry|')) continue;
      const key = splitRef(r)[1];
      if (!this.seWorkloadUids.has(key)) continue;
      if (selectors !== undefined && !selectors.some((sel) => isSubset(sel, this.serviceEntries.get(key)?.metadata.labels))) continue;
      this.dirty.seWorkloads.add(key);
    }
  }

  private recomputePeerAuthentications(namespaces: string[]): void {
    const root = this.opts.rootNamespace;
    const all = namespaces.includes(ALL);
    const affected = all ? [...new Set([...this.paByNs.keys(), ...[...this.paConverted.keys()].map((k) => k.split('/')[0]!)])] : namespaces;
    this.out.setAuthorization(`${root}/${STATIC_STRICT_POLICY_NAME}`, this.peerAuths.size > 0 ? staticStrictPolicy(root) : undefined);
    const rootCfg = oldestNamespacePolicy(this.pasIn(root));
    for (const ns of affected) {
      const nsCfg = oldestNamespacePolicy(this.pasIn(ns));
      for (const [k, name] of this.paConverted) if (k.startsWith(`${ns}/`) && !this.peerAuths.has(k)) {
        this.out.setAuthorization(name, undefined);
        this.paConverted.delete(k);
      }
      for (const k of this.paByNs.get(ns)) {
        const pa = this.peerAuths.get(k)!;
        const conv = convertPeerAuthentication(root, pa, nsCfg, rootCfg);
        const name = `${ns}/${CONVERTED_PEER_AUTHENTICATION_PREFIX}${pa.metadata.name}`;
        this.out.setAuthorization(name, conv);
        if (conv) this.paConverted.set(k, name);
        else this.paConverted.delete(k);
      }
    }
    const podNamespaces = all ? [...this.podsByNs.keys()] : namespaces;
    for (const ns of podNamespaces) for (const k of this.podsByNs.get(ns)) this.dirty.pods.add(k);
    const weNamespaces = all ? [...this.wesByNs.keys()] : namespaces;
    for (const ns of weNamespaces) for (const k of this.wesByNs.get(ns)) this.dirty.wes.add(k);
    for (const ns of all ? [...this.svcRefsByNs.keys()] : namespaces) this.markServiceEntryWorkloads(ns);
  }

  private pasIn(ns: string): PeerAuthentication[] {
    return [...this.paByNs.get(ns)].map((k) => this.peerAuths.get(k)!);
  }

  /** buildWorkloadPolicies: selector policies (own or root namespace) that select, sorted, then PeerAuthentication keys. */
  private policiesFor(namespace: string, labels: Readonly<Record<string, string>> | undefined): string[] {
    const keys: string[] = [];
    for (const ns of new Set([namespace, this.opts.rootNamespace])) {
      for (const k of this.authzByNs.get(ns)) {
        const c = this.converted.get(k);
        if (c?.authorization && c.selector && Object.keys(c.selector).length > 0 && isSubset(c.selector, labels)) keys.push(k);
      }
    }
    keys.sort();
    if (this.peerAuths.size === 0) return keys;
    const pas = peerAuthenticationsFor({ root: this.pasIn(this.opts.rootNamespace), namespace: namespace === this.opts.rootNamespace ? [] : this.pasIn(namespace) }, labels);
    return [...keys, ...effectivePeerAuthenticationKeys(this.opts.rootNamespace, pas)];
  }

  /** Services in the namespace selecting these labels (Services and ServiceEntries), deduped per key, sorted. */
  private servicesFor(namespace: string, labels: Readonly<Record<string, string>> | undefined): ServiceInfo[] {
    const byKey = new Map<string, ServiceInfo>();
    for (const ref of this.svcRefsByNs.get(namespace)) {
      for (const si of this.serviceInfos.get(ref) ?? []) {
        if (!selectsNonEmpty(si.selector, labels)) continue;
        const cur = byKey.get(si.key);
        if (cur === undefined || (cur.source.kind !== 'Service' && si.source.kind === 'Service')) byKey.set(si.key, si);
      }
    }
    return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** `report` false: resolve without a status condition (ServiceEntry endpoints: Istio drops the error). */
  private workloadWaypoint(ref: Ref, resource: string, meta: Pod['metadata'], report = true): Waypoint | undefined {
    this.trackWanted(ref, meta);
    const ns = meta.namespace ?? '';
    // fetchWaypointForInstance: a waypoint's own pods never get a waypoint.
    const gwName = meta.labels?.[LABELS.GATEWAY_NAME];
    if (gwName !== undefined && this.waypoints.has(waypointKey(ns, gwName))) {
      if (report) this.setConditions(resource, 'WaypointBound', []);
      return undefined;
    }
    const binding = resolveWaypoint(resource, meta, this.namespaces.get(ns), (k) => this.waypoints.get(k), 'workload');
    if (report) this.setConditions(resource, 'WaypointBound', binding.condition ? [binding.condition] : []);
    return binding.waypoint;
  }

  private recomputePod(key: string): void {
    const pod = this.pods.get(key);
    const [namespace = '', name = ''] = key.split('/');
    const uid = `${this.opts.clusterId}//Pod/${namespace}/${name}`;
    if (pod === undefined) {
      this.trackWanted(`Pod|${key}`, undefined);
      this.setConditions(`Pod ${key}`, 'WaypointBound', []);
      this.out.setAddress(uid, undefined);
      return;
    }
    const labels = pod.metadata.labels;
    const waypoint = this.workloadWaypoint(`Pod|${key}`, `Pod ${key}`, pod.metadata);
    const node = pod.spec.nodeName ? this.nodes.get(pod.spec.nodeName) : undefined;
    const w = workloadFromPod(pod, {
      services: this.servicesFor(namespace, labels),
      policies: this.policiesFor(namespace, labels),
      opts: this.opts,
      ...(node ? { node } : {}),
      ...(waypoint ? { waypoint } : {}),
    });
    this.out.setAddress(uid, w ? create(workload.AddressSchema, { type: { case: 'workload', value: w } }) : undefined);
  }

  private recomputeWorkloadEntry(key: string): void {
    const we = this.workloadEntries.get(key);
    const [namespace = '', name = ''] = key.split('/');
    const uid = `${this.opts.clusterId}/networking.istio.io/WorkloadEntry/${namespace}/${name}`;
    if (we === undefined) {
      this.trackWanted(`WorkloadEntry|${key}`, undefined);
      this.setConditions(`WorkloadEntry ${key}`, 'WaypointBound', []);
      this.out.setAddress(uid, undefined);
      return;
    }
    const labels = workloadEntryLabels(we);
    const waypoint = this.workloadWaypoint(`WorkloadEntry|${key}`, `WorkloadEntry ${key}`, { ...we.metadata, labels });
    const w = workloadFromWorkloadEntry(we, {
      services: this.servicesFor(namespace, labels),
      policies: this.policiesFor(namespace, labels),
      opts: this.opts,
      ...(waypoint ? { waypoint } : {}),
    });
    this.out.setAddress(uid, create(workload.AddressSchema, { type: { case: 'workload', value: w } }));
  }

  /**
   * serviceEntryWorkloadBuilder: the workloads of a ServiceEntry's endpoints (inline, or implicit per host for
   * DNS resolution). An inline endpoint binds a workload waypoint by its own labels (or its namespace's);
   * implicit ones never do. The ServiceEntry's own use-waypoint label stays on its Services.
   */
  private recomputeServiceEntryWorkloads(key: string): void {
    const se = this.serviceEntries.get(key);
    const ref = `ServiceEntry|${key}`;
    const resource = `ServiceEntry ${key}`;
    const [namespace = ''] = key.split('/');
    const won = (this.serviceInfos.get(ref) ?? []).filter((si) => this.keyWinner.get(si.key) === ref);
    const { endpoints, warnings } = se ? serviceEntryEndpoints(se, won) : { endpoints: [], warnings: [] };
    const uids = new Set<string>();
    const refs = new Set<Ref>();
    const policies = se && endpoints.length > 0 ? this.policiesFor(namespace, se.metadata.labels) : [];
    for (const ep of endpoints) {
      let waypoint: Waypoint | undefined;
      if (!ep.implicit) {
        const epRef = `ServiceEntryEndpoint|${key}|${ep.spec.address ?? ''}`;
        refs.add(epRef);
        const meta = { name: se!.metadata.name, namespace, ...(ep.spec.labels ? { labels: ep.spec.labels } : {}) };
        waypoint = this.workloadWaypoint(epRef, resource, meta, false);
      }
      const w = workloadFromServiceEntryEndpoint(se!, ep, { services: ep.services, policies, opts: this.opts, ...(waypoint ? { waypoint } : {}) });
      uids.add(w.uid);
      this.out.setAddress(w.uid, create(workload.AddressSchema, { type: { case: 'workload', value: w } }));
    }
    for (const uid of this.seWorkloadUids.get(key) ?? []) if (!uids.has(uid)) this.out.setAddress(uid, undefined);
    for (const r of this.seEndpointRefs.get(key) ?? []) if (!refs.has(r)) this.trackWanted(r, undefined);
    setOrDelete(this.seWorkloadUids, key, uids.size > 0 ? uids : undefined);
    setOrDelete(this.seEndpointRefs, key, refs.size > 0 ? refs : undefined);
    const before = this.warningsByResource.get(resource);
    setOrDelete(this.warningsByResource, resource, warnings.length > 0 ? warnings : undefined);
    if (warnings.length > 0 && before?.join('\n') !== warnings.join('\n')) this.hooks.onWarnings?.(resource, warnings);
  }
}

function setOrDelete<T>(m: Map<string, T>, k: string, v: T | undefined): void {
  if (v === undefined) m.delete(k);
  else m.set(k, v);
}

function drain<T>(s: Set<T>): T[] {
  const out = [...s];
  s.clear();
  return out;
}

function splitRef(ref: Ref): [string, string] {
  const i = ref.indexOf('|');
  return [ref.slice(0, i), ref.slice(i + 1)];
}

function waypointView(w: Waypoint): unknown {
  return { ...w, address: w.address.destination };
}

