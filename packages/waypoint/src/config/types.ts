import type { waypoint } from '@mesh/api';

// Local aliases for the generated mesh.waypoint.v1 messages (the @mesh/api entry exposes them under
// the `waypoint` namespace).
export type WaypointConfig = waypoint.WaypointConfig;
export type ServiceRoutes = waypoint.ServiceRoutes;
export type Route = waypoint.Route;
export type RouteMatch = waypoint.RouteMatch;
export type PathMatch = waypoint.PathMatch;
export type StringMatch = waypoint.StringMatch;
export type HeaderMatch = waypoint.HeaderMatch;
export type WeightedBackend = waypoint.WeightedBackend;
export type AuthorizationPolicy = waypoint.AuthorizationPolicy;
export type AuthzRule = waypoint.AuthzRule;
export type AuthzSource = waypoint.AuthzSource;
export type AuthzOperation = waypoint.AuthzOperation;
export type AuthzCondition = waypoint.AuthzCondition;
export type JwtRule = waypoint.JwtRule;
export type TrafficPolicy = waypoint.TrafficPolicy;
export type Source = waypoint.Source;
