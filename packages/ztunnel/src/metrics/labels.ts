// Istio's TCP metric label set as ztunnel reports it (Z:src/proxy/metrics.rs `CommonTrafficLabels`): workload
// fields come from WDS (workload_name, canonical name/revision, namespace, cluster), app/version are the
// canonical name/revision, principals are full spiffe:// URIs, and every missing value is "unknown".
import type { Workload } from '@mesh/api';
import { identityOf, spiffeUri, type SpiffeIdentity } from '../state/index';

export const TCP_LABEL_NAMES = [
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

export type TcpLabelName = (typeof TCP_LABEL_NAMES)[number];
export type TcpLabels = Readonly<Record<TcpLabelName, string>>;
export type Reporter = 'source' | 'destination';
export type SecurityPolicy = 'mutual_tls' | 'unknown';
/** ztunnel's ResponseFlags as they appear in the label ('-' = none). */
export type ResponseFlag = '-' | 'DENY' | 'CONNECT' | 'TLS_FAILURE' | 'H2_HANDSHAKE_FAILURE' | 'NETWORK_POLICY' | 'IDENTITY_ERROR';

export const UNKNOWN_LABEL = 'unknown';
/** Envoy's "no flags" value, used by ztunnel for successful connections. */
export const NO_RESPONSE_FLAGS = '-';
const MAX_ENTRIES_PER_PAIR = 64;

export interface TcpLabelInput {
  readonly reporter: Reporter;
  readonly sourceWorkload?: Workload | undefined;
  /** Peer identity from the handshake; wins over the source workload's own identity for source_principal. */
  readonly sourceIdentity?: SpiffeIdentity | undefined;
  readonly destinationWorkload?: Workload | undefined;
  readonly destinationService?: { readonly hostname: string; readonly name: string; readonly namespace: string } | undefined;
  readonly securityPolicy: SecurityPolicy;
  readonly responseFlags?: ResponseFlag | undefined;
}

function v(s: string | undefined): string {
  return s === undefined || s === '' ? UNKNOWN_LABEL : s;
}

type Side = 'source' | 'destination';

function workloadLabels(side: Side, wl: Workload | undefined, principal: string | undefined): Record<string, string> {
  return {
    [`${side}_workload`]: v(wl?.workloadName),
    [`${side}_canonical_service`]: v(wl?.canonicalName),
    [`${side}_canonical_revision`]: v(wl?.canonicalRevision),
    [`${side}_workload_namespace`]: v(wl?.namespace),
    [`${side}_principal`]: v(principal),
    [`${side}_app`]: v(wl?.canonicalName),
    [`${side}_version`]: v(wl?.canonicalRevision),
    [`${side}_cluster`]: v(wl?.clusterId),
  };
}

/** Build the full label set (allocates; use {@link TcpLabelCache} on hot paths). */
export function buildTcpLabels(input: TcpLabelInput): TcpLabels {
  const srcPrincipal =
    input.sourceIdentity !== undefined ? spiffeUri(input.sourceIdentity) : input.sourceWorkload === undefined ? undefined : identityOf(input.sourceWorkload);
  const dstPrincipal = input.destinationWorkload === undefined ? undefined : identityOf(input.destinationWorkload);
  const svc = input.destinationService;
  const labels = {
    reporter: input.reporter,
    ...workloadLabels('source', input.sourceWorkload, srcPrincipal),
    destination_service: v(svc?.hostname),
    destination_service_namespace: v(svc?.namespace),
    destination_service_name: v(svc?.name),
    ...workloadLabels('destination', input.destinationWorkload, dstPrincipal),
    request_protocol: 'tcp',
    response_flags: v(input.responseFlags ?? NO_RESPONSE_FLAGS),
    connection_security_policy: input.securityPolicy,
  };
  return Object.freeze(labels as TcpLabels);
}

const NONE: object = Object.freeze({});

/**
 * Memoises label sets per (source workload object, destination workload object, rest). Workload objects are
 * replaced by the store on every update, so stale entries are unreachable and collected with them.
 */
export class TcpLabelCache {
  private readonly bySource = new WeakMap<object, WeakMap<object, Map<string, TcpLabels>>>();

  labels(input: TcpLabelInput): TcpLabels {
    const srcKey = input.sourceWorkload ?? NONE;
    const dstKey = input.destinationWorkload ?? NONE;
    let byDst = this.bySource.get(srcKey);
    if (byDst === undefined) this.bySource.set(srcKey, (byDst = new WeakMap()));
    let rest = byDst.get(dstKey);
    if (rest === undefined) byDst.set(dstKey, (rest = new Map()));
    const id = input.sourceIdentity;
    const svc = input.destinationService;
    const key = `${input.reporter}|${id === undefined ? '' : `${id.trustDomain}/${id.namespace}/${id.serviceAccount}`}|${
      svc === undefined ? '' : `${svc.namespace}/${svc.hostname}/${svc.name}`
    }|${input.securityPolicy}|${input.responseFlags ?? ''}`;
    let labels = rest.get(key);
    if (labels === undefined) {
      if (rest.size >= MAX_ENTRIES_PER_PAIR) rest.clear(); // bound memory for pathological flag/identity churn
      labels = buildTcpLabels(input);
      rest.set(key, labels);
    }
    return labels;
  }
}
