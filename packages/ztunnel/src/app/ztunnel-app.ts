// Wires ztunnel together (Z:src/app.rs): state, certificates, in-pod ZDS, per-pod proxies, ops endpoints.
// Everything the process reads from outside (xDS, CA, ZDS socket) comes in through options, so tests run
// whole ztunnels in-process with a fed state and a test CA.
import { createLogger, createMetricsRegistry, Drain, getLogLevel, isLogLevel, type DrainResult, type Logger, type LogLevel, type Registry } from '@mesh/core';
import { CertificateManager, formatSpiffeId, type FetchCertificate, type Identity } from '@mesh/identity';
import type { DeltaXdsClient } from '@mesh/xds-client';
import type { Workload } from '@mesh/api';
import { startOpsServers, type Endpoint, type OpsServers } from '../admin/index';
import { WorkloadManager, ZdsClient } from '../inpod/index';
import { ProxyMetrics } from '../metrics/index';
import {
  HostResolver, ManagedCredentials, PodProxy, workloadIdentity, DEFAULT_POD_PORTS,
  type Authorizer, type InboundResolver, type OutboundDecider, type PodInfo, type PodListenerPorts, type ProxyInputs, type ProxyState,
} from '../proxy/index';
import { WorkerPool, type StateFanout, type WorkerStats } from '../worker/index';

export interface AppState extends ProxyState {
  workloadsOnNode?(node: string): Workload[];
  subscribe?(listener: () => void): () => void;
}

export interface ZtunnelAppOptions {
  state: AppState;
  decide: OutboundDecider;
  authorize: Authorizer;
  resolveInbound: InboundResolver;
  fetchCertificate: FetchCertificate;
  zdsPath: string;
  trustDomain: string;
  network?: string;
  nodeName?: string;
  packetMark?: number;
  portReuse?: boolean;
  ipv6Enabled?: boolean;
  drainDeadlineMs?: number;
  endpoints: { admin: Endpoint; stats: Endpoint; readiness: Endpoint };
  podPorts?: PodListenerPorts;
  logger?: Logger;
  /** Extra /config_dump sections (workloads, services, policies from the store). */
  dumpState?: () => Record<string, unknown>;
  /** Started and closed with the app; readiness waits for its first sync. */
  xds?: DeltaXdsClient;
  /** Called after /quitquitquit or stop() finished draining (main.ts exits the process). */
  onExit?: () => void;
  /** Run the data path on worker threads instead of this event loop (ZTUNNEL_WORKER_THREADS >= 2). */
  workers?: WorkersOption;
}

export interface WorkersOption {
  count: number;
  /** The xDS sink whose deltas every worker applies (the decide/authorize options serve only count 1). */
  fanout: StateFanout;
  /** Worker bundle; default dist/ztunnel-worker.mjs beside the running bundle. */
  script?: string;
  /** A worker died; default: exit the process with status 1. */
  onFatal?: (err: Error) => void;
}

export class ZtunnelApp {
  readonly logger: Logger;
  readonly registry: Registry;
  readonly metrics: ProxyMetrics;
  readonly certs: CertificateManager;
  readonly workloads: WorkloadManager;
  readonly drain = new Drain();
  private readonly zds: ZdsClient;
  private ops: OpsServers | undefined;
  private xdsSynced = false;
  /** Last fetch error per identity URI, cleared when a certificate arrives (shown as `Unavailable: ...`). */
  private readonly certErrors = new Map<string, string>();
  private unsubscribe: (() => void) | undefined;
  private stopping: Promise<void> | undefined;
  private pool: WorkerPool | undefined;

  constructor(private readonly opts: ZtunnelAppOptions) {
    this.logger = opts.logger ?? createLogger({ component: 'ztunnel' });
    this.registry = createMetricsRegistry({ processMetrics: false });
    this.metrics = new ProxyMetrics(this.registry);
    this.certs = new CertificateManager({ fetch: opts.fetchCertificate });
    this.certs.onFetchFailed((e) => {
      const uri = formatSpiffeId(e.identity);
      this.certErrors.set(uri, e.error instanceof Error ? e.error.message : String(e.error));
      this.logger.warn({ identity: uri, attempt: e.attempt, retryInMs: e.retryInMs, err: String(e.error) }, 'certificate fetch failed');
    });
    this.certs.onRotated((e) => this.certErrors.delete(formatSpiffeId(e.identity)));
    const inputs: ProxyInputs = {
      state: opts.state,
      decide: opts.decide,
      authorize: opts.authorize,
      resolveInbound: opts.resolveInbound,
      credentials: new ManagedCredentials(this.certs),
      metrics: this.metrics,
      logger: this.logger.child({ component: 'proxy' }),
      accessLog: this.logger.child({ component: 'access' }),
      network: opts.network ?? '',
      trustDomain: opts.trustDomain,
      packetMark: opts.packetMark ?? 1337,
      portReuse: opts.portReuse ?? true,
      ipv6Enabled: opts.ipv6Enabled ?? true,
      hostResolver: new HostResolver({ ipv6Enabled: opts.ipv6Enabled ?? true }),
      drain: this.drain,
    };
    const ports = opts.podPorts ?? DEFAULT_POD_PORTS;
    this.workloads = new WorkloadManager(
      (info: PodInfo, fd: number) => {
        this.certs.prefetch(this.podIdentity(info));
        return this.pool ? this.pool.startPod(info, fd) : PodProxy.start(inputs, info, fd, ports);
      },
      this.logger.child({ component: 'inpod' }),
      (n) => this.metrics.activePods.set(n),
    );
    this.zds = new ZdsClient({ path: opts.zdsPath, handler: this.workloads, logger: this.logger.child({ component: 'zds' }) });
    this.zds.on('connected', () => this.metrics.zdsConnected.set(1));
    this.zds.on('disconnected', () => this.metrics.zdsConnected.set(0));
    this.drain.onForce(() => void this.workloads.closeAll());
  }

  get zdsConnected(): boolean {
    return this.zds.connected;
  }

  get opsServers(): OpsServers | undefined {
    return this.ops;
  }

  /** The data-path workers (multi-worker mode), once started. */
  get workerPool(): WorkerPool | undefined {
    return this.pool;
  }

  async start(): Promise<void> {
    // Workers first: pods arrive over ZDS only after they can take them, and they start from the state so far.
    if (this.opts.workers) this.pool = await this.startWorkers(this.opts.workers);
    this.ops = await startOpsServers(this.opts.endpoints, this.registry, this.logger, {
      configDump: () => this.configDumpWithWorkers(),
      quit: () => void this.stop().then(() => this.opts.onExit?.()),
      notReady: () => this.notReady(),
      logLevelChanged: (level: LogLevel) => this.pool?.setLogLevel(level),
    });
    const xds = this.opts.xds;
    if (xds) {
      xds.on('synced', () => {
        this.xdsSynced = true;
      });
      xds.on('connected', () => this.metrics.xdsConnected.set(1));
      xds.on('disconnected', (d) => {
        this.metrics.xdsConnected.set(0);
        this.logger.warn({ reason: d.reason, retryInMs: d.retryInMs }, 'xDS stream to istiod lost; serving from the last known state');
      });
      xds.start();
    }
    this.unsubscribe = this.opts.state.subscribe?.(() => this.prefetchNodeCerts());
    this.prefetchNodeCerts();
    this.zds.start();
    this.logger.info({ endpoints: this.opts.endpoints, zds: this.opts.zdsPath }, 'ztunnel started');
  }

  /**
   * Readiness conditions still missing. As Istio's ztunnel (Z:src/app.rs readiness tasks "state manager",
   * "proxy", "workload proxy manager"): ready once the initial xDS state is synced and ZDS is connected.
   * Certificates are deliberately not a condition: ztunnel fetches them lazily/prefetched per workload and a
   * CA outage must not flip every node's ztunnel unready; fetch failures show in /config_dump `certificates`
   * as `state: "Unavailable: <error>"`, and connections needing that identity fail until it arrives.
   */
  notReady(): string[] {
    const missing: string[] = [];
    if (this.opts.xds && !this.xdsSynced) missing.push('xds');
    if (!this.zds.connected) missing.push('zds');
    if (this.drain.draining) missing.push('draining');
    return missing;
  }

  /** Drain: stop accepting, let connections finish until the deadline, then close everything. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.logger.info('draining');
      this.zds.stop();
      this.workloads.stopAccepting();
      const result = await this.drainDataPath(this.opts.drainDeadlineMs ?? 5_000);
      if (result.forced) this.logger.warn({ remaining: result.remaining }, 'drain deadline passed; closed remaining connections');
      await this.workloads.closeAll();
      await this.pool?.stop();
      this.unsubscribe?.();
      this.opts.xds?.close();
      this.certs.close();
      await this.ops?.close();
    })();
    return this.stopping;
  }

  /** /config_dump: configDump() plus, with workers, each worker's connection counters and state size. */
  async configDumpWithWorkers(): Promise<Record<string, unknown>> {
    const workers: WorkerStats[] | undefined = this.pool ? await this.pool.stats() : undefined;
    const dump = this.configDump();
    return workers ? { ...dump, workers } : dump;
  }

  configDump(): Record<string, unknown> {
    const identities = new Map<string, Identity>();
    for (const wl of this.nodeWorkloads()) {
      const id = workloadIdentity(wl, this.opts.trustDomain);
      identities.set(formatSpiffeId(id), id);
    }
    // Enrolled pods (ZDS) too: a pod may be captured before xDS names its workload on this node.
    for (const pod of Object.values(this.workloads.dump())) {
      const id = this.podIdentity({ uid: '', name: pod.name, namespace: pod.namespace, serviceAccount: pod.serviceAccount });
      identities.set(formatSpiffeId(id), id);
    }
    const certificates = [...identities.entries()].map(([uri, id]) => {
      const cert = this.certs.peek(id);
      return cert
        ? { identity: uri, state: 'Available', certChain: cert.certChainPem.map(pemInfo), rootCerts: [pemInfo(cert.rootsPem)] }
        : { identity: uri, state: this.certStateWithoutCert(uri), certChain: [], rootCerts: [] };
    });
    return {
      ...(this.opts.dumpState?.() ?? {}),
      certificates,
      workloadState: this.workloads.dump(),
      config: { trustDomain: this.opts.trustDomain, network: this.opts.network ?? '', nodeName: this.opts.nodeName ?? '', zdsPath: this.opts.zdsPath },
    };
  }

  private async startWorkers(w: WorkersOption): Promise<WorkerPool> {
    const o = this.opts;
    const pool = await WorkerPool.start({
      count: w.count,
      settings: {
        network: o.network ?? '', trustDomain: o.trustDomain, packetMark: o.packetMark ?? 1337, portReuse: o.portReuse ?? true,
        ipv6Enabled: o.ipv6Enabled ?? true, podPorts: o.podPorts ?? DEFAULT_POD_PORTS, logLevel: workerLogLevel(getLogLevel(this.logger)),
      },
      fanout: w.fanout, certs: this.certs, metrics: this.metrics, logger: this.logger,
      onFatal: w.onFatal ?? (() => process.exit(1)),
      ...(w.script ? { script: w.script } : {}),
    });
    this.logger.info({ workers: w.count }, 'data path runs on worker threads');
    return pool;
  }

  private async drainDataPath(deadlineMs: number): Promise<DrainResult> {
    const [local, workers] = await Promise.all([this.drain.start(deadlineMs), this.pool?.drain(deadlineMs)]);
    if (workers === undefined) return local;
    return { forced: local.forced || workers.forced, remaining: local.remaining + workers.remaining };
  }

  /** ztunnel's CertDump states: Initializing while the first fetch is pending, Unavailable after a failure. */
  private certStateWithoutCert(uri: string): string {
    const err = this.certErrors.get(uri);
    return err === undefined ? 'Initializing' : `Unavailable: ${err}`;
  }

  private nodeWorkloads(): Workload[] {
    const node = this.opts.nodeName;
    if (!node || !this.opts.state.workloadsOnNode) return [];
    return this.opts.state.workloadsOnNode(node);
  }

  private prefetchNodeCerts(): void {
    for (const wl of this.nodeWorkloads()) this.certs.prefetch(workloadIdentity(wl, this.opts.trustDomain));
  }

  private podIdentity(info: PodInfo): Identity {
    return { trustDomain: this.opts.trustDomain, namespace: info.namespace, serviceAccount: info.serviceAccount || 'default' };
  }
}

function workerLogLevel(level: string): LogLevel {
  return isLogLevel(level) ? level : 'info';
}

function pemInfo(pem: string): { pem: string } {
  return { pem };
}
