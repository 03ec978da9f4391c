import { AmbientIndex, WaypointConfigs } from '../model';
import type { ModelFactory } from './model-seam';

/**
 * istiod's model: the ambient index over the config store, serving WDS Addresses and Authorizations, plus
 * one compiled WaypointConfig per waypoint Gateway (attached after the index so bindings are current).
 */
export const ambientModel: ModelFactory = (config, mesh, logger) => {
  const index = new AmbientIndex(mesh, {
    onWarnings: (resource, warnings) => logger.warn({ resource, warnings }, 'resource accepted with warnings'),
  });
  const detachIndex = index.attach(config);
  const waypoints = new WaypointConfigs(index, {
    onWarnings: (waypoint, warnings) => logger.warn({ waypoint, warnings }, 'waypoint config compiled with warnings'),
  });
  const detachWaypoints = waypoints.attach(config);
  return {
    xdsStore: index,
    debug: () => ({ waypointWarnings: waypoints.warnings(), resourceWarnings: Object.fromEntries(index.warnings()), conditions: index.conditions() }),
    stop: () => {
      detachWaypoints();
      detachIndex();
    },
  };
};
