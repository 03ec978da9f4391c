import { create, fromBinary, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { AnySchema, type Any } from '@bufbuild/protobuf/wkt';
import { AddressSchema, type Address } from '../gen/istio/workload/workload_pb';
import { AuthorizationSchema, type Authorization } from '../gen/istio/security/authorization_pb';
import { WaypointConfigSchema, type WaypointConfig } from '../gen/mesh/waypoint/v1/waypoint_pb';
import { ApiError } from '../errors';
import { typeNameFromUrl, typeUrl } from './type-url';

/** Packs a message into google.protobuf.Any with the `type.googleapis.com/` prefix xDS expects. */
export function packAny<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): Any {
  return create(AnySchema, { typeUrl: typeUrl(schema), value: toBinary(schema, message) });
}

/**
 * Unpacks an Any that must hold `schema`. Throws API_ANY_TYPE_MISMATCH when it holds another type
 * (e.g. a resource delivered under the wrong xDS type URL) and API_ANY_DECODE when the bytes are bad.
 * Bytes fields of the result are views into `any.value` (protobuf-es does not copy them).
 */
export function unpackAny<Desc extends DescMessage>(any: Any, schema: Desc): MessageShape<Desc> {
  if (typeNameFromUrl(any.typeUrl) !== schema.typeName) {
    throw new ApiError(
      'API_ANY_TYPE_MISMATCH',
      `expected a packed ${schema.typeName} but got type URL "${any.typeUrl}"; check the xDS type_url the server sent`,
    );
  }
  try {
    return fromBinary(schema, any.value);
  } catch (cause) {
    throw new ApiError(
      'API_ANY_DECODE',
      `packed ${schema.typeName} (${any.value.byteLength} bytes) is not valid protobuf; check the server's proto version`,
      { cause },
    );
  }
}

export function packAddress(address: Address): Any {
  return packAny(AddressSchema, address);
}

export function unpackAddress(any: Any): Address {
  return unpackAny(any, AddressSchema);
}

export function packAuthorization(authorization: Authorization): Any {
  return packAny(AuthorizationSchema, authorization);
}

export function unpackAuthorization(any: Any): Authorization {
  return unpackAny(any, AuthorizationSchema);
}

export function packWaypointConfig(config: WaypointConfig): Any {
  return packAny(WaypointConfigSchema, config);
}

export function unpackWaypointConfig(any: Any): WaypointConfig {
  return unpackAny(any, WaypointConfigSchema);
}
