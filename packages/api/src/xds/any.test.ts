import { create } from '@bufbuild/protobuf';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import { describe, expect, it } from 'vitest';
import { AddressSchema } from '../gen/istio/workload/workload_pb';
import { AuthorizationSchema, Action } from '../gen/istio/security/authorization_pb';
import { WaypointConfigSchema } from '../gen/mesh/waypoint/v1/waypoint_pb';
import { ApiError } from '../errors';
import {
  packAddress,
  packAny,
  packAuthorization,
  packWaypointConfig,
  unpackAddress,
  unpackAny,
  unpackAuthorization,
  unpackWaypointConfig,
} from './any';
import {
  ADDRESS_TYPE_URL,
  AUTHORIZATION_TYPE_URL,
  WAYPOINT_CONFIG_TYPE_URL,
  WORKLOAD_TYPE_URL,
  typeNameFromUrl,
  typeUrl,
} from './type-url';

describe('type URLs', () => {
  it('match the strings ztunnel and istiod use', () => {
    expect(ADDRESS_TYPE_URL).toBe('type.googleapis.com/istio.workload.Address');
    expect(AUTHORIZATION_TYPE_URL).toBe('type.googleapis.com/istio.security.Authorization');
    expect(WORKLOAD_TYPE_URL).toBe('type.googleapis.com/istio.workload.Workload');
    expect(WAYPOINT_CONFIG_TYPE_URL).toBe('type.googleapis.com/mesh.waypoint.v1.WaypointConfig');
    expect(typeUrl(AnySchema)).toBe('type.googleapis.com/google.protobuf.Any');
  });

  it('extracts the type name after the last slash', () => {
    expect(typeNameFromUrl('example.com/a/b/istio.workload.Address')).toBe('istio.workload.Address');
    expect(typeNameFromUrl('istio.workload.Address')).toBe('istio.workload.Address');
  });
});

describe('Any packing', () => {
  it('round-trips an Address', () => {
    const address = create(AddressSchema, { type: { case: 'workload', value: { uid: 'c//Pod/ns/p', name: 'p' } } });
    const any = packAddress(address);
    expect(any.typeUrl).toBe(ADDRESS_TYPE_URL);
    const back = unpackAddress(any);
    expect(back.type.case).toBe('workload');
    expect(back.type.value?.$typeName).toBe('istio.workload.Workload');
  });

  it('round-trips an Authorization and a WaypointConfig', () => {
    const auth = create(AuthorizationSchema, { name: 'a', namespace: 'ns', action: Action.DENY });
    expect(unpackAuthorization(packAuthorization(auth)).action).toBe(Action.DENY);
    const wp = create(WaypointConfigSchema, { name: 'w', namespace: 'ns', services: [{ hostname: 'h', port: 80 }] });
    expect(unpackWaypointConfig(packWaypointConfig(wp)).services[0]?.port).toBe(80);
  });

  it('rejects an Any of another type with API_ANY_TYPE_MISMATCH', () => {
    const any = packAny(AuthorizationSchema, create(AuthorizationSchema, { name: 'a' }));
    let caught: unknown;
    try {
      unpackAddress(any);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ApiError);
    expect((caught as ApiError).code).toBe('API_ANY_TYPE_MISMATCH');
    expect((caught as ApiError).message).toContain(AUTHORIZATION_TYPE_URL);
  });

  it('rejects malformed bytes with API_ANY_DECODE', () => {
    // Tag for field 1 length-delimited with a length running past the end.
    const any = create(AnySchema, { typeUrl: ADDRESS_TYPE_URL, value: new Uint8Array([0x0a, 0x7f, 0x01]) });
    expect(() => unpackAny(any, AddressSchema)).toThrow(expect.objectContaining({ code: 'API_ANY_DECODE' }));
  });
});
