export {
  TYPE_URL_PREFIX,
  typeUrl,
  typeNameFromUrl,
  ADDRESS_TYPE_URL,
  AUTHORIZATION_TYPE_URL,
  WORKLOAD_TYPE_URL,
  WAYPOINT_CONFIG_TYPE_URL,
} from './type-url';
export {
  packAny,
  unpackAny,
  packAddress,
  unpackAddress,
  packAuthorization,
  unpackAuthorization,
  packWaypointConfig,
  unpackWaypointConfig,
} from './any';
