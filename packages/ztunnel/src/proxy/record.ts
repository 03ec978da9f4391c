// Builds the per-connection record (labels, access log, release hook) shared by all three listeners.
import type { Workload } from '@mesh/api';
import type { Logger } from '@mesh/core';
import type { ProxyMetrics, Reporter, ResponseFlag, SecurityPolicy, TcpLabelInput, TcpLabels } from '../metrics/index';
import { parseSpiffeUri } from '../state/index';
import type { ServiceRef } from './decision/index';
import type { Closable, ConnectionRecord } from './copy/index';
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

/**
 * One connection's bookkeeping. The access-log child logger (and its bindings object) is built only when a
 * line is actually written: with the access log at warn (the benchmark) or info without failures, the
 * per-connection path allocates no pino child. Lines carry the same fields either way.
 */
class ConnRecord implements ConnectionRecord {
  readonly labels: TcpLabels;
  readonly startedAtMs = Date.now();
  private log: Logger | undefined;
  private untrackPod: (() => void) | undefined;
  private readonly untrackDrain: () => void;
  private released = false;

  constructor(
    private readonly inputs: ProxyInputs,
    private readonly pod: PodContext,
    private readonly r: RecordInput,
    private readonly labelInput: TcpLabelInput,
  ) {
    this.labels = inputs.metrics.labels(labelInput);
    this.untrackDrain = inputs.drain.track();
  }

  get metrics(): ProxyMetrics {
    return this.inputs.metrics;
  }

  labelsWithFlag(responseFlags: ResponseFlag): TcpLabels {
    return this.inputs.metrics.labels({ ...this.labelInput, responseFlags });
  }

  logs(level: 'debug' | 'info'): boolean {
    return this.inputs.accessLog.isLevelEnabled(level);
  }

  get accessLog(): Logger {
    this.log ??= this.inputs.accessLog.child(this.bindings());
    return this.log;
  }

  track(...closables: Closable[]): void {
    const previous = this.untrackPod;
    const untrack = this.pod.connections.add(...closables);
    this.untrackPod = previous === undefined ? untrack : (): void => {
      previous();
      untrack();
    };
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.untrackPod?.();
    this.untrackDrain();
  }

  private bindings(): Record<string, string> {
    const { r, labels } = this;
    return {
      direction: r.reporter === 'source' ? 'outbound' : 'inbound',
      pod: `${this.pod.info.namespace}/${this.pod.info.name}`,
      'src.addr': r.src,
      'dst.addr': r.dst,
      ...(r.hboneAddr ? { 'dst.hbone_addr': r.hboneAddr } : {}),
      'src.identity': labels.source_principal,
      'dst.identity': labels.destination_principal,
      ...(r.destinationService ? { 'dst.service': r.destinationService.hostname } : {}),
    };
  }
}

export function newRecord(inputs: ProxyInputs, pod: PodContext, r: RecordInput, closables: Closable[]): ConnectionRecord {
  const labelInput: TcpLabelInput = {
    reporter: r.reporter,
    sourceWorkload: r.source,
    sourceIdentity: r.peerIdentity === undefined ? undefined : parseSpiffeUri(r.peerIdentity),
    destinationWorkload: r.destination,
    destinationService: r.destinationService,
    securityPolicy: r.securityPolicy,
  };
  const rec = new ConnRecord(inputs, pod, r, labelInput);
  if (closables.length > 0) rec.track(...closables);
  return rec;
}
