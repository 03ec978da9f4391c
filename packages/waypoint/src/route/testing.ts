import { create, waypoint, type MessageInitShape } from '@mesh/api';
import type { RouteRequest } from './request';

/** Builds a ServiceRoutes message from plain init objects (tests and benches). */
export function serviceRoutes(init: MessageInitShape<typeof waypoint.ServiceRoutesSchema>): waypoint.ServiceRoutes {
  return create(waypoint.ServiceRoutesSchema, init);
}

export function routeRequest(over: Partial<RouteRequest> = {}): RouteRequest {
  return { method: 'GET', path: '/', authority: 'svc.ns.svc.cluster.local:80', headers: {}, port: 80, ...over };
}
