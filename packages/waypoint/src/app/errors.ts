import { defineMeshError } from '@mesh/core';

export const RootCertUnreadableError = defineMeshError(
  'WAYPOINT_ROOT_CERT_UNREADABLE',
  'RootCertUnreadableError',
  (d: { variable: string; file: string; reason: string }) =>
    `${d.variable}=${d.file} cannot be read (${d.reason}); mount istiod's root certificate (istio-ca-root-cert) there`,
);
