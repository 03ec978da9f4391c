// istio_tcp_* label set (Z:src/proxy/metrics.rs `CommonTrafficLabels`): missing values are "unknown",
// principals are full spiffe:// URIs, reporter is "source" on outbound and "destination" on inbound.
import type { Workload, workload } from '@mesh/api';

export const TRAFFIC_LABEL_NAMES = [
  'reporter',
  'source_workload',
  'source_canonical_service',
  'source_canonical_revision',
  'source_workload_namespace',
  'source_principal',
  'source_app',
  'source_version',
  'source_cluster',
  'destination_service',
  'destination_service_namespace',
  'destination_service_name',
  'destination_workload',
  'destination_canonical_service',
  'destination_canonical_revision',
  'destination_workload_namespace',
  'destination_principal',
  'destination_app',
  'destination_version',
  'destination_cluster',
  'request_protocol',
  'response_flags',
  'connection_security_policy',
] as const;

export type TrafficLabelName = (typeof TRAFFIC_LABEL_NAMES)[number];
export type TrafficLabels = Record<TrafficLabelName, string>;

export type Reporter = 'source' | 'destination';
/** ztunnel's ResponseFlags as they appear in the label. */
export type ResponseFlag = '-' | 'DENY' | 'CONNECT' | 'TLS_FAILURE' | 'H2_HANDSHAKE_FAILURE' | 'IDENTITY_ERROR';
export type SecurityPolicy = 'mutual_tls' | 'unknown';

const UNKNOWN = 'unknown';

export interface TrafficLabelInput {
  reporter: Reporter;
  source?: Workload;
  /** Verified or own identity of the source (spiffe://...). */
  sourcePrincipal?: string;
  destination?: Workload;
  destinationService?: workload.Service;
  destinationPrincipal?: string;
  securityPolicy: SecurityPolicy;
}

function orUnknown(v: string | undefined): string {
  return v === undefined || v === '' ? UNKNOWN : v;
}

export function buildTrafficLabels(input: TrafficLabelInput): TrafficLabels {
  const s = input.source;
  const d = input.destination;
  const svc = input.destinationService;
  return {
    reporter: input.reporter,
    source_workload: orUnknown(s?.workloadName || s?.name),
    source_canonical_service: orUnknown(s?.canonicalName),
    source_canonical_revision: orUnknown(s?.canonicalRevision),
    source_workload_namespace: orUnknown(s?.namespace),
    source_principal: orUnknown(input.sourcePrincipal),
    source_app: orUnknown(s?.canonicalName),
    source_version: orUnknown(s?.canonicalRevision),
    source_cluster: orUnknown(s?.clusterId),
    destination_service: orUnknown(svc?.hostname),
    destination_service_namespace: orUnknown(svc?.namespace),
    destination_service_name: orUnknown(svc?.name),
    destination_workload: orUnknown(d?.workloadName || d?.name),
    destination_canonical_service: orUnknown(d?.canonicalName),
    destination_canonical_revision: orUnknown(d?.canonicalRevision),
    destination_workload_namespace: orUnknown(d?.namespace),
    destination_principal: orUnknown(input.destinationPrincipal),
    destination_app: orUnknown(d?.canonicalName),
    destination_version: orUnknown(d?.canonicalRevision),
    destination_cluster: orUnknown(d?.clusterId),
    request_protocol: 'tcp',
    response_flags: '-',
    connection_security_policy: input.securityPolicy,
  };
}
