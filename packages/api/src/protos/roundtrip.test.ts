import { equals, fromBinary, toBinary, type DescFile, type DescMessage } from '@bufbuild/protobuf';
import { nestedTypes } from '@bufbuild/protobuf/reflect';
import { describe, expect, it } from 'vitest';
import { file_envoy_config_core_v3_base } from '../gen/envoy/config/core/v3/base_pb';
import { file_envoy_service_discovery_v3_discovery } from '../gen/envoy/service/discovery/v3/discovery_pb';
import { file_google_rpc_status } from '../gen/google/rpc/status_pb';
import { file_istio_security_authorization } from '../gen/istio/security/authorization_pb';
import { file_istio_v1_auth_ca } from '../gen/istio/v1/auth/ca_pb';
import { file_istio_workload_workload } from '../gen/istio/workload/workload_pb';
import { file_istio_workload_zds_zds } from '../gen/istio/workload/zds/zds_pb';
import { file_mesh_waypoint_v1_waypoint } from '../gen/mesh/waypoint/v1/waypoint_pb';
import { fillMessage, unsetFields, variantCount } from '../../test/fill-message';

const FILES: DescFile[] = [
  file_istio_workload_workload,
  file_istio_security_authorization,
  file_istio_workload_zds_zds,
  file_istio_v1_auth_ca,
  file_envoy_config_core_v3_base,
  file_envoy_service_discovery_v3_discovery,
  file_google_rpc_status,
  file_mesh_waypoint_v1_waypoint,
];

function messagesOf(file: DescFile): DescMessage[] {
  return [...nestedTypes(file)].filter((t): t is DescMessage => t.kind === 'message');
}

describe.each(FILES.map((f) => [f.name, f] as const))('round trip of every message in %s', (_name, file) => {
  const messages = messagesOf(file);

  it('has messages', () => {
    expect(messages.length).toBeGreaterThan(0);
  });

  it.each(messages.map((m) => [m.typeName, m] as const))('%s: encode -> decode is lossless', (_t, schema) => {
    for (let variant = 0; variant < variantCount(schema); variant++) {
      const original = fillMessage(schema, variant);
      expect(unsetFields(schema, original)).toEqual([]);
      const bytes = toBinary(schema, original);
      if (schema.fields.length > 0) expect(bytes.byteLength).toBeGreaterThan(0);
      const decoded = fromBinary(schema, bytes);
      expect(equals(schema, decoded, original)).toBe(true);
      expect(toBinary(schema, decoded)).toEqual(bytes);
    }
  });
});
