import { create, waypoint, type GRPCRoute, type HTTPRoute, type VirtualService } from '@mesh/api';
import { byAge, CompileContext, guarded, nsOf } from './context';
import { indexDestinationRules, type DestinationRuleIndex } from './destination-rule';
import { attachedPorts, compileGrpcRouteRules, compileHttpRouteRules, sortGatewayRoutes } from './gateway-route';
import { hostMatches, resolveHost } from './hosts';
import { compileAuthorizationPolicy, compileJwtRules, placePolicy } from './policies';
import { checkRouteRegexes, istioDefaultRetry } from './common';
import type { AuthzPolicyInit, BoundService, CompileWaypointInput, CompileWaypointResult, JwtRuleInit, RouteInit } from './types';
import { compileVirtualServiceRoutes, vsAppliesToMesh } from './virtual-service';
import { expandDelegates } from './vs-delegate';

const DEFAULT_ROOT_NAMESPACE = 'istio-system';
const DEFAULT_DOMAIN_SUFFIX = 'cluster.local';

function defaultRoute(svc: BoundService): RouteInit {
  return {
    name: 'default',
    source: { kind: 'default', namespace: svc.namespace, name: svc.name },
    backends: [{ hostname: svc.hostname, port: 0, weight: 100 }],
    retries: istioDefaultRetry(),
  };
}

function gatewayRoutesFor(svc: BoundService, input: CompileWaypointInput, ctx: CompileContext): RouteInit[] | undefined {
  const entries: { route: HTTPRoute | GRPCRoute; compiled: RouteInit; order: number }[] = [];
  const all: (HTTPRoute | GRPCRoute)[] = [...(input.httpRoutes ?? []), ...(input.grpcRoutes ?? [])];
  for (const route of all) {
    const ports = guarded(ctx, route, undefined, () => attachedPorts(route, svc, ctx));
    if (ports === undefined) continue;
    const compiled = guarded(ctx, route, [] as RouteInit[], () =>
      route.kind === 'HTTPRoute' ? compileHttpRouteRules(route as HTTPRoute, ports, ctx) : compileGrpcRouteRules(route as GRPCRoute, ports, ctx),
    );
    compiled.forEach((c, i) => entries.push({ route, compiled: c, order: i }));
  }
  return entries.length === 0 ? undefined : sortGatewayRoutes(entries);
}

function vsMatches(vs: VirtualService, svc: BoundService, ctx: CompileContext): boolean {
  return vsAppliesToMesh(vs, ctx.waypointNamespace) && (vs.spec.hosts ?? []).some((h) => hostMatches(resolveHost(h, nsOf(vs), ctx.domainSuffix), svc.hostname));
}

function virtualServiceRoutesFor(svc: BoundService, input: CompileWaypointInput, ctx: CompileContext, drs: DestinationRuleIndex): RouteInit[] | undefined {
  const matching = (input.virtualServices ?? []).filter((vs) => guarded(ctx, vs, false, () => vsMatches(vs, svc, ctx))).sort(byAge);
  if (matching.length === 0) return undefined;
  // Several VirtualServices for one host are merged in age order, as Istio does for gateways and
  // (since istio/istio#59484) waypoints.
  return matching.flatMap((vs) => guarded(ctx, vs, [] as RouteInit[], () => compileVirtualServiceRoutes(vs, ctx, drs)));
}

/**
 * HTTPRoute/GRPCRoute attached to the Service (GAMMA) take precedence: any VirtualService for the
 * same host is then ignored and reported as shadowed.
 */
function routesFor(svc: BoundService, input: CompileWaypointInput, ctx: CompileContext, drs: DestinationRuleIndex): RouteInit[] {
  const routes = selectRoutes(svc, input, ctx, drs);
  for (const r of routes) {
    const src = r.source as { kind?: string; namespace?: string; name?: string } | undefined;
    checkRouteRegexes(r, (message) => ctx.warnings.push({ code: 'INVALID_VALUE', resource: `${src?.kind ?? 'route'} ${src?.namespace ?? ''}/${src?.name ?? ''}`, message }));
  }
  return routes;
}

function selectRoutes(svc: BoundService, input: CompileWaypointInput, ctx: CompileContext, drs: DestinationRuleIndex): RouteInit[] {
  const gw = gatewayRoutesFor(svc, input, ctx);
  const vs = virtualServiceRoutesFor(svc, input, ctx, drs);
  if (gw !== undefined) {
    if (vs !== undefined) {
      for (const v of input.virtualServices ?? []) {
        if (guarded(ctx, v, false, () => vsMatches(v, svc, ctx))) {
          ctx.warn(v, 'SHADOWED', `ignored for ${svc.hostname}: an HTTPRoute/GRPCRoute is attached to the Service and takes precedence`);
        }
      }
    }
    return gw;
  }
  return vs ?? [defaultRoute(svc)];
}

/**
 * Compiles everything that configures one waypoint into its WaypointConfig. Pure: no I/O, no
 * clock; the same input always yields the same output. Never throws on input: anything skipped
 * or approximated is reported in `warnings`.
 */
export function compileWaypointConfig(input: CompileWaypointInput): CompileWaypointResult {
  const gw = input.waypoint;
  const ctx = new CompileContext(nsOf(gw), input.rootNamespace ?? DEFAULT_ROOT_NAMESPACE, input.domainSuffix ?? DEFAULT_DOMAIN_SUFFIX);
  const drs = indexDestinationRules(input.destinationRules ?? [], ctx);
  // Delegate VirtualServices are merged into their roots once; routing then sees only roots and plain ones.
  const routeInput: CompileWaypointInput = { ...input, virtualServices: expandDelegates(input.virtualServices ?? [], ctx) };
  const services = [...input.services].sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0));

  const wideAuthz: AuthzPolicyInit[] = [];
  const svcAuthz: AuthzPolicyInit[][] = services.map(() => []);
  for (const p of [...(input.authorizationPolicies ?? [])].sort(byAge)) {
    guarded(ctx, p, undefined, () => {
      const place = placePolicy(p, gw, services, ctx);
      if (!place.waypointWide && place.services.length === 0) return;
      const compiled = compileAuthorizationPolicy(p, ctx);
      if (compiled === undefined) return;
      if (place.waypointWide) wideAuthz.push(compiled);
      else for (const i of place.services) svcAuthz[i]!.push(compiled);
    });
  }
  const wideJwt: JwtRuleInit[] = [];
  const svcJwt: JwtRuleInit[][] = services.map(() => []);
  for (const ra of [...(input.requestAuthentications ?? [])].sort(byAge)) {
    guarded(ctx, ra, undefined, () => {
      const place = placePolicy(ra, gw, services, ctx);
      if (!place.waypointWide && place.services.length === 0) return;
      const rules = compileJwtRules(ra, ctx);
      if (place.waypointWide) wideJwt.push(...rules);
      else for (const i of place.services) svcJwt[i]!.push(...rules);
    });
  }

  const config = create(waypoint.WaypointConfigSchema, {
    name: gw.metadata.name,
    namespace: nsOf(gw),
    policies: wideAuthz,
    jwtRules: wideJwt,
    trafficPolicies: drs.trafficPolicies,
    meshH2UpgradePolicy: input.meshH2UpgradePolicy === 'UPGRADE' ? waypoint.H2UpgradePolicy.UPGRADE : waypoint.H2UpgradePolicy.DO_NOT_UPGRADE,
    services: services.map((svc, i) => ({
      hostname: svc.hostname,
      name: svc.name,
      namespace: svc.namespace,
      vips: [...svc.vips],
      ports: svc.ports.map((p) => ({ port: p.port, targetPort: p.targetPort ?? 0, name: p.name ?? '', protocol: p.protocol ?? '' })),
      routes: routesFor(svc, routeInput, ctx, drs),
      policies: svcAuthz[i],
      jwtRules: svcJwt[i],
    })),
  });
  return { config, warnings: ctx.warnings };
}

