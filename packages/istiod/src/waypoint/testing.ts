import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  parseManifests,
  type AuthorizationPolicy,
  type DestinationRule,
  type Gateway,
  type GRPCRoute,
  type HTTPRoute,
  type RequestAuthentication,
  type VirtualService,
} from '@mesh/api';
import type { BoundService, CompileWaypointInput } from './types';

/** Loads a testdata fixture through the real manifest parser and groups it into compiler input. */
export function loadFixture(file: string, services: BoundService[]): CompileWaypointInput & { parseErrors: string[] } {
  return parseInput(readFileSync(join(import.meta.dirname, 'testdata', file), 'utf8'), services, file);
}

/** The waypoint Gateway in bookinfo that inline test manifests start with. */
export const BOOKINFO_WAYPOINT_YAML = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: waypoint, namespace: bookinfo}
spec:
  gatewayClassName: istio-waypoint
  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
---`;

/** Inline manifests through the real manifest parser, grouped into compiler input as loadFixture does. */
export function parseInput(text: string, services: BoundService[], file = 'inline.yaml'): CompileWaypointInput & { parseErrors: string[] } {
  const parsed = parseManifests(text, file);
  const of = <T>(kind: string) => parsed.objects.filter((o) => o.kind === kind) as unknown as T[];
  const gateways = of<Gateway>('Gateway').filter((g) => g.apiVersion.startsWith('gateway.networking.k8s.io'));
  return {
    parseErrors: parsed.errors.map((e) => e.message),
    waypoint: gateways[0]!,
    services,
    virtualServices: of<VirtualService>('VirtualService'),
    destinationRules: of<DestinationRule>('DestinationRule'),
    httpRoutes: of<HTTPRoute>('HTTPRoute'),
    grpcRoutes: of<GRPCRoute>('GRPCRoute'),
    authorizationPolicies: of<AuthorizationPolicy>('AuthorizationPolicy'),
    requestAuthentications: of<RequestAuthentication>('RequestAuthentication'),
  };
}

export function svc(name: string, namespace: string, vip: string, ports: number[]): BoundService {
  return { name, namespace, hostname: `${name}.${namespace}.svc.cluster.local`, vips: [vip], ports: ports.map((port) => ({ port, protocol: 'HTTP' })) };
}
