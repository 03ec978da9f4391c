// Builds the per-connection record (labels, access log child, release hook) shared by all three listeners.
import type { Workload, workload } from '@mesh/api';
import { buildTrafficLabels, type Reporter, type SecurityPolicy } from '../metrics/index';
import type { ConnectionRecord } from './copy/index';
import type { PodContext, ProxyInputs } from './context';

export interface RecordInput {
  reporter: Reporter;
  src: string;
  dst: string;
  hboneAddr?: string;
  source?: Workload;
  sourcePrincipal?: string;
  destination?: Workload;
  destinationService?: workload.Service;
  destinationPrincipal?: string;
  securityPolicy: SecurityPolicy;
}

export function newRecord(inputs: ProxyInputs, pod: PodContext, r: RecordInput, closables: { destroy(): void }[]): ConnectionRecord {
  const untrackDrain = inputs.drain.track();
  const untrackPod = pod.connections.add(...closables);
  let released = false;
  return {
    labels: buildTrafficLabels(r),
    metrics: inputs.metrics,
    accessLog: inputs.accessLog.child({
      direction: r.reporter === 'source' ? 'outbound' : 'inbound',
      pod: `${pod.info.namespace}/${pod.info.name}`,
      'src.addr': r.src,
      'dst.addr': r.dst,
      ...(r.hboneAddr ? { 'dst.hbone_addr': r.hboneAddr } : {}),
      ...(r.sourcePrincipal ? { 'src.identity': r.sourcePrincipal } : {}),
      ...(r.destinationPrincipal ? { 'dst.identity': r.destinationPrincipal } : {}),
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
