// One namespace for envoy.service.discovery.v3, which Envoy splits over two files.
export * from '../gen/envoy/service/discovery/v3/discovery_pb';
export * from '../gen/envoy/service/discovery/v3/ads_pb';
