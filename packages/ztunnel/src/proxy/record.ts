// Builds the per-connection record (labels, access log child, release hook) shared by all three listeners.
import type { Workload } from '@mesh/api';
import type { Reporter, SecurityPolicy, TcpLabelInput } from '../metrics/index';
import { parseSpiffeUri, type SpiffeIdentity } from '../state/index';
import type { ServiceRef } from './decision/index';
import type { ConnectionRecord } from './copy/index';
import type { PodContext, ProxyInputs } from './context';

export interface RecordInput {
  reporter: Reporter;
  src: string;
  dst: string;
  hboneAddr?: string;
  source?: Workload;
  /** Verified peer identity (spiffe://...) on inbound HBONE; wins over the source workload's identity. */
  peerIdentity?: string;
  destination?: Workload;
  destinationService?: ServiceRef;
  securityPolicy: SecurityPolicy;
}

export function newRecord(inputs: ProxyInputs, pod: PodContext, r: RecordInput, closables: { destroy(): void }[]): ConnectionRecord {
  const untrackDrain = inputs.drain.track();
  const untrackPod = pod.connections.add(...closables);
  const peer: SpiffeIdentity | undefined = r.peerIdentity === undefined ? undefined : parseSpiffeUri(r.peerIdentity);
  const labelInput: TcpLabelInput = {
    reporter: r.reporter,
    sourceWorkload: r.source,
    sourceIdentity: peer,
    destinationWorkload: r.destination,
    destinationService: r.destinationService,
    securityPolicy: r.securityPolicy,
  };
  const labels = inputs.metrics.labels(labelInput);
  let released = false;
  return {
    labels,
    labelsWithFlag: (responseFlags) => inputs.metrics.labels({ ...labelInput, responseFlags }),
    metrics: inputs.metrics,
    accessLog: inputs.accessLog.child({
      direction: r.reporter === 'source' ? 'outbound' : 'inbound',
      pod: `${pod.info.namespace}/${pod.info.name}`,
      'src.addr': r.src,
      'dst.addr': r.dst,
      ...(r.hboneAddr ? { 'dst.hbone_addr': r.hboneAddr } : {}),
      'src.identity': labels.source_principal,
      'dst.identity': labels.destination_principal,
      ...(r.destinationService ? { 'dst.service': r.destinationService.hostname } : {}),
    }),
    startedAtMs: Date.now(),
    release: () => {
      if (released) return;
      released = true;
      untrackPod();
      untrackDrain();
    },
  };
}
