import { describe, expect, it } from 'vitest';
import * as api from './index';

describe('@mesh/api public entry', () => {
  it('exports each proto package as a namespace with the same schemas as the flat exports', () => {
    expect(api.workload.AddressSchema).toBe(api.AddressSchema);
    expect(api.workload.WorkloadSchema.typeName).toBe('istio.workload.Workload');
    expect(api.security.AuthorizationSchema).toBe(api.AuthorizationSchema);
    expect(api.security.AddressSchema.typeName).toBe('istio.security.Address');
    expect(api.zds.WorkloadRequestSchema).toBe(api.WorkloadRequestSchema);
    expect(api.ca.IstioCertificateService.typeName).toBe('istio.v1.auth.IstioCertificateService');
    expect(api.discovery.AggregatedDiscoveryService).toBe(api.AggregatedDiscoveryService);
    expect(api.discovery.ResourceSchema.typeName).toBe('envoy.service.discovery.v3.Resource');
    expect(api.envoyCore.NodeSchema.typeName).toBe('envoy.config.core.v3.Node');
    expect(api.rpc.StatusSchema.typeName).toBe('google.rpc.Status');
    expect(api.waypoint.WaypointConfigSchema).toBe(api.WaypointConfigSchema);
  });

  it('exports the helpers and the protobuf-es runtime', () => {
    const msg = api.create(api.ServiceSchema, { hostname: 'h' });
    expect(api.fromBinary(api.ServiceSchema, api.toBinary(api.ServiceSchema, msg)).hostname).toBe('h');
    expect(api.ADDRESS_TYPE_URL).toBe('type.googleapis.com/istio.workload.Address');
    expect(typeof api.createGrpcClient).toBe('function');
    expect(typeof api.addGrpcService).toBe('function');
    expect(typeof api.wkt.anyPack).toBe('function');
  });
});
