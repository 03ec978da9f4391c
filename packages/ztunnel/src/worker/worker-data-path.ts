// One data-path worker (runs inside a worker thread): its own MeshState fed with the main thread's accepted
// xDS deltas, the same decision / authorization adapters main.ts wires, its own HBONE pools and servers per
// pod (PodProxy, unchanged), its own drain and metric tallies. It serves the main thread's requests.
import { AddressSchema, AuthorizationSchema, fromBinary } from '@mesh/api';
import { createMetricsRegistry, Drain, setLogLevel, type Logger, type LogLevel } from '@mesh/core';
import type { Identity, WorkloadCertificate } from '@mesh/identity';
import { meshAuthorizer, meshDecider, meshInboundResolver } from '../app/decisions';
import { ProxyMetrics, type Tally } from '../metrics/index';
import { HostResolver, ManagedCredentials, PodProxy, type ProxyInputs } from '../proxy/index';
import { MeshState } from '../state/index';
import { MainOp, WorkerOp, type AddPodRequest, type DrainReply, type WorkerSettings, type WorkerStats, type XdsDelta } from './protocol';
import { RemoteCertificates } from './remote-certificates';
import type { RpcPort } from './rpc';

export class WorkerDataPath {
  readonly state = new MeshState();
  readonly metrics = new ProxyMetrics(createMetricsRegistry({ processMetrics: false }));
  readonly drain = new Drain();
  private readonly pods = new Map<string, PodProxy>();
  private readonly certs: RemoteCertificates;
  private readonly inputs: ProxyInputs;

  constructor(private readonly settings: WorkerSettings, private readonly rpc: RpcPort, private readonly logger: Logger, private readonly threadId: number) {
    for (const d of settings.snapshot) this.applyXds(d);
    this.certs = new RemoteCertificates((identity: Identity, timeoutMs: number) =>
      rpc.request<WorkloadCertificate>(MainOp.fetchCertificate, { identity, timeoutMs }));
    this.inputs = {
      state: this.state,
      decide: meshDecider(this.state),
      authorize: meshAuthorizer(this.state),
      resolveInbound: meshInboundResolver(this.state),
      credentials: new ManagedCredentials(this.certs),
      metrics: this.metrics,
      logger: logger.child({ component: 'proxy' }),
      accessLog: logger.child({ component: 'access' }),
      network: settings.network,
      trustDomain: settings.trustDomain,
      packetMark: settings.packetMark,
      portReuse: settings.portReuse,
      ipv6Enabled: settings.ipv6Enabled,
      hostResolver: new HostResolver({ ipv6Enabled: settings.ipv6Enabled }),
      drain: this.drain,
    };
    this.drain.onForce(() => this.closeAll());
    this.serve();
  }

  private serve(): void {
    const rpc = this.rpc;
    rpc.handle(WorkerOp.xds, (d: XdsDelta) => this.applyXds(d));
    rpc.handle(WorkerOp.addPod, (r: AddPodRequest) => this.addPod(r));
    rpc.handle(WorkerOp.delPod, (uid: string) => this.delPod(uid));
    rpc.handle(WorkerOp.stopAccepting, (uid: string) => this.pods.get(uid)?.stopAccepting());
    rpc.handle(WorkerOp.drain, (deadlineMs: number): Promise<DrainReply> => this.drain.start(deadlineMs));
    rpc.handle(WorkerOp.stats, () => this.stats());
    rpc.handle(WorkerOp.tallies, (): Tally[] => this.metrics.takeTallies());
    rpc.handle(WorkerOp.logLevel, (level: LogLevel) => setLogLevel(this.logger, level));
    rpc.handle(WorkerOp.certificate, (cert: WorkloadCertificate) => this.certs.store(cert));
  }

  /** A delta the main thread's store accepted (StateFanout forwards only the accepted part of a batch). */
  applyXds(d: XdsDelta): void {
    if (d.kind === 'address') {
      this.state.applyAddresses(d.updates.map(([name, bytes]) => ({ name, resource: fromBinary(AddressSchema, bytes) })), d.removed);
    } else {
      this.state.applyAuthorizations(d.updates.map(([name, bytes]) => ({ name, resource: fromBinary(AuthorizationSchema, bytes) })), d.removed);
    }
  }

  private async addPod(r: AddPodRequest): Promise<void> {
    this.delPod(r.info.uid);
    this.pods.set(r.info.uid, await PodProxy.start(this.inputs, r.info, r.netnsFd, this.settings.podPorts));
  }

  private delPod(uid: string): void {
    const pod = this.pods.get(uid);
    if (pod === undefined) return;
    this.pods.delete(uid);
    pod.close();
  }

  private closeAll(): void {
    for (const uid of [...this.pods.keys()]) this.delPod(uid);
  }

  private stats(): WorkerStats {
    const pods: Record<string, number> = {};
    let active = 0;
    for (const [uid, p] of this.pods) {
      pods[uid] = p.connectionCount;
      active += p.connectionCount;
    }
    return {
      worker: this.settings.id, threadId: this.threadId, connectionsOpened: this.metrics.connectionsOpened, activeConnections: active, pods,
      workloads: this.state.workloadCount, policies: this.state.policies.size,
    };
  }
}
