import {
  workload,
  type AuthorizationPolicy,
  type DestinationRule,
  type GRPCRoute,
  type HTTPRoute,
  type MeshResource,
  type RequestAuthentication,
  type ResourceKey,
  type VirtualService,
  type WaypointConfig,
} from '@mesh/api';
import type { ConfigStore } from '../config/store';
import type { AnyConfigEvent } from '../config/types';
import { compileWaypointConfig, type BoundService, type BoundServicePort, type WaypointWarning } from '../waypoint';
import type { AmbientIndex } from './ambient-index';
import type { ServiceInfo } from './services';

/** Kinds compiled into WaypointConfigs. */
const ROUTE_KINDS: readonly ResourceKey[] = [
  'networking.istio.io/VirtualService',
  'networking.istio.io/DestinationRule',
  'gateway.networking.k8s.io/HTTPRoute',
  'gateway.networking.k8s.io/GRPCRoute',
  'security.istio.io/AuthorizationPolicy',
  'security.istio.io/RequestAuthentication',
];
/** Kinds that change which waypoints exist or which services bind to them (read back from the index). */
const BINDING_KINDS: ReadonlySet<string> = new Set(['Namespace', 'Service', 'networking.istio.io/ServiceEntry', 'gateway.networking.k8s.io/Gateway', 'gateway.networking.k8s.io/GatewayClass']);

export const DEFAULT_WAYPOINT_COMPILE_DEBOUNCE_MS = 100;

export interface WaypointConfigsOptions {
  /** Quiet time before recompiling after a change; 0 recompiles on the next tick. */
  debounceMs?: number;
  /** Called after each recompile that changed a config's warnings (istiod logs them). */
  onWarnings?: (waypoint: string, warnings: readonly WaypointWarning[]) => void;
}

/**
 * Compiles one WaypointConfig per waypoint Gateway (`ns/name`) and publishes it through the ambient index's
 * store. Any change to a route/policy kind or to bindings recompiles every waypoint after a debounce (simple
 * over incremental: waypoints are few); identical output keeps its content version, so nothing is pushed.
 * The index must be attached to the same ConfigStore first, so bindings are current when the timer fires.
 */
export class WaypointConfigs {
  private readonly objects = new Map<string, MeshResource>();
  private readonly warningsByWaypoint = new Map<string, readonly WaypointWarning[]>();
  private timer: NodeJS.Timeout | undefined;
  private readonly debounceMs: number;

  constructor(
    private readonly index: AmbientIndex,
    private readonly opts: WaypointConfigsOptions = {},
  ) {
    this.debounceMs = opts.debounceMs ?? DEFAULT_WAYPOINT_COMPILE_DEBOUNCE_MS;
  }

  attach(store: ConfigStore): () => void {
    for (const kind of ROUTE_KINDS) for (const o of store.list(kind)) this.objects.set(objKey(kind, o), o as MeshResource);
    this.recompile();
    const unsubscribe = store.subscribe((e) => this.handle(e));
    return () => {
      unsubscribe();
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
    };
  }

  /** Track one config event and schedule a recompile when it can affect a waypoint. */
  handle(e: AnyConfigEvent): void {
    if (ROUTE_KINDS.includes(e.kind)) {
      const key = `${e.kind}|${e.namespace}/${e.name}`;
      if (e.type === 'delete') this.objects.delete(key);
      else this.objects.set(key, e.object as MeshResource);
    } else if (!BINDING_KINDS.has(e.kind)) {
      return;
    }
    this.schedule();
  }

  /** Current compiler warnings by waypoint `ns/name` (for /debug/configz). */
  warnings(): Record<string, readonly WaypointWarning[]> {
    return Object.fromEntries(this.warningsByWaypoint);
  }

  /** Compile all waypoints now and publish; returns what changed in the store. */
  recompile(): { changed: string[]; removed: string[] } {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const configs = new Map<string, WaypointConfig>();
    const seen = new Set<string>();
    for (const [key, gw] of this.index.waypointGateways()) {
      const r = compileWaypointConfig({
        waypoint: gw,
        services: this.index.servicesBoundTo(key).map(boundService),
        virtualServices: this.of<VirtualService>('networking.istio.io/VirtualService'),
        destinationRules: this.of<DestinationRule>('networking.istio.io/DestinationRule'),
        httpRoutes: this.of<HTTPRoute>('gateway.networking.k8s.io/HTTPRoute'),
        grpcRoutes: this.of<GRPCRoute>('gateway.networking.k8s.io/GRPCRoute'),
        authorizationPolicies: this.of<AuthorizationPolicy>('security.istio.io/AuthorizationPolicy'),
        requestAuthentications: this.of<RequestAuthentication>('security.istio.io/RequestAuthentication'),
        rootNamespace: this.index.opts.rootNamespace,
        domainSuffix: this.index.opts.domainSuffix,
        ...(this.index.opts.h2UpgradePolicy === undefined ? {} : { meshH2UpgradePolicy: this.index.opts.h2UpgradePolicy }),
      });
      configs.set(key, r.config);
      seen.add(key);
      const before = JSON.stringify(this.warningsByWaypoint.get(key) ?? []);
      this.warningsByWaypoint.set(key, r.warnings);
      if (before !== JSON.stringify(r.warnings) && r.warnings.length > 0) this.opts.onWarnings?.(key, r.warnings);
    }
    for (const k of [...this.warningsByWaypoint.keys()]) if (!seen.has(k)) this.warningsByWaypoint.delete(k);
    return this.index.publishWaypointConfigs(configs);
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.recompile(), this.debounceMs);
    this.timer.unref();
  }

  private of<T>(kind: ResourceKey): T[] {
    const prefix = `${kind}|`;
    const out: T[] = [];
    for (const [k, o] of this.objects) if (k.startsWith(prefix)) out.push(o as unknown as T);
    return out;
  }
}

function objKey(kind: ResourceKey, o: { metadata: { namespace?: string; name: string } }): string {
  return `${kind}|${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

const PROTOCOL_NAMES: Partial<Record<workload.AppProtocol, string>> = {
  [workload.AppProtocol.HTTP11]: 'HTTP',
  [workload.AppProtocol.HTTP2]: 'HTTP2',
  [workload.AppProtocol.GRPC]: 'GRPC',
};

/** The index's view of a bound service, as the compiler takes it. A `tcp`-named port stays opaque TCP. */
export function boundService(si: ServiceInfo): BoundService {
  const ports: BoundServicePort[] = si.service.ports.map((p) => {
    const portName = si.portNames.get(p.servicePort)?.portName ?? '';
    const named = portName.toLowerCase().split('-')[0];
    const protocol = PROTOCOL_NAMES[p.appProtocol] ?? (named === 'tcp' ? 'TCP' : '');
    return { port: p.servicePort, ...(p.targetPort ? { targetPort: p.targetPort } : {}), ...(portName ? { name: portName } : {}), ...(protocol ? { protocol } : {}) };
  });
  return {
    kind: si.source.kind,
    name: si.source.name,
    namespace: si.source.namespace,
    hostname: si.service.hostname,
    vips: si.service.addresses.map((a) => formatIp(a.address)),
    ports,
  };
}

function formatIp(b: Uint8Array): string {
  if (b.length === 4) return b.join('.');
  const groups: string[] = [];
  for (let i = 0; i + 1 < b.length; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return groups.join(':');
}
