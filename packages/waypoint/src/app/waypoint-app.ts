// Wires a waypoint together: its own certificate, the Address and WaypointConfig state, the HBONE listener
// and L7 pipeline, upstream HBONE agents, metrics and ops endpoints. Everything from outside (xDS, CA) comes
// in through options, so tests run whole waypoints in-process with injected state and a test CA.
import type { SecureContext } from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { WaypointConfig } from '@mesh/api';
import { createLogger, createMetricsRegistry, Drain, type Logger, type Registry } from '@mesh/core';
import { createHboneSecureContext } from '@mesh/hbone';
import { CertificateManager, formatSpiffeId, type FetchCertificate, type Identity, type WorkloadCertificate } from '@mesh/identity';
import type { DeltaXdsClient } from '@mesh/xds-client';
import { startOpsServers, type Endpoint, type OpsServers } from '../admin/index';
import { compileWaypointState, type WaypointState } from '../config/index';
import { createRequestHandler, type TunnelTarget } from '../http/index';
import { KeySets, type KeySetOptions } from '../jwt/index';
import { WaypointListener } from '../listener/index';
import { RequestMetrics } from '../metrics/index';
import { compilePolicies, type CompiledPolicies } from '../policy/index';
import { HboneAgents, hostPort, portHttpVersion, UpstreamClusters, UpstreamState } from '../upstream/index';
import { proxyTcp } from './tcp';

export const CERT_WAIT_TIMEOUT_MS = 10_000;

export interface WaypointAppOptions {
  identity: Identity;
  fetchCertificate: FetchCertificate;
  listen: Endpoint;
  endpoints?: { admin: Endpoint; stats: Endpoint; readiness: Endpoint };
  /** Port of destinations' HBONE listener (15008). */
  upstreamHbonePort?: number;
  drainDeadlineMs?: number;
  logger?: Logger;
  xds?: DeltaXdsClient;
  rand?: () => number;
  /** RequestAuthentication JWKS fetching (injectable fetch, refresh interval, timeout). */
  jwks?: KeySetOptions;
}

export class WaypointApp {
  readonly logger: Logger;
  readonly registry: Registry;
  readonly metrics: RequestMetrics;
  readonly certs: CertificateManager;
  readonly upstream = new UpstreamState();
  /** DestinationRule-driven upstream clusters (LB, circuit breakers, outlier detection). */
  readonly clusters: UpstreamClusters;
  readonly agents: HboneAgents;
  readonly listener: WaypointListener;
  readonly drain = new Drain();
  private state: WaypointState | undefined;
  private waypointPolicies: CompiledPolicies = compilePolicies([]);
  private readonly contexts = new WeakMap<WorkloadCertificate, SecureContext>();
  private ops: OpsServers | undefined;
  private xdsSynced = false;
  private address: AddressInfo | undefined;
  private stopping: Promise<void> | undefined;
  private xds: DeltaXdsClient | undefined;

  constructor(private readonly opts: WaypointAppOptions) {
    this.logger = opts.logger ?? createLogger({ component: 'waypoint' });
    this.registry = createMetricsRegistry({ processMetrics: false });
    this.metrics = new RequestMetrics(this.registry);
    this.certs = new CertificateManager({ fetch: opts.fetchCertificate });
    this.xds = opts.xds;
    const secureContext = (): Promise<SecureContext> => this.secureContext();
    this.agents = new HboneAgents({
      sourceIdentity: formatSpiffeId(opts.identity), secureContext, logger: this.logger.child({ component: 'upstream' }),
      ...(opts.upstreamHbonePort === undefined ? {} : { hbonePort: opts.upstreamHbonePort }),
    });
    this.clusters = new UpstreamClusters((host, subset, port) => this.state?.trafficPolicy(host, subset, port));
    const deps = {
      upstream: this.upstream, agents: this.agents, clusters: this.clusters, logger: this.logger.child({ component: 'proxy' }),
      isHttp2Port: (host: string, port: number, subset?: string) => this.upstreamHttpVersion(host, port, subset) === 'http2',
    };
    this.listener = new WaypointListener({
      secureContext,
      trustDomain: opts.identity.trustDomain,
      resolveTarget: (host, port, authority) => this.resolveTarget(host, port, authority),
      isOpaqueTcp: (t) => t.kind === 'service' && t.entry.routes.service.ports.find((p) => p.port === t.port)?.protocol === 'TCP',
      handler: createRequestHandler({ ...deps, metrics: this.metrics, jwtKeys: new KeySets(opts.jwks), ...(opts.rand ? { rand: opts.rand } : {}) }),
      tcp: (tunnel, ctx) => proxyTcp(deps, tunnel, ctx),
      logger: this.logger.child({ component: 'listener' }),
      drain: this.drain,
    });
  }

  /** Attaches the xDS client (built with this app as its sink) before start(). */
  useXds(xds: DeltaXdsClient): void {
    this.xds = xds;
  }

  /** Installs a new compiled WaypointConfig (from xDS, or directly in tests). */
  setConfig(config: WaypointConfig | undefined): void {
    this.state = config === undefined ? undefined : compileWaypointState(config);
    this.waypointPolicies = compilePolicies(config?.policies ?? []);
    for (const p of this.state?.problems ?? []) this.logger.warn({ problem: p }, 'waypoint config problem');
  }

  get config(): WaypointState | undefined {
    return this.state;
  }

  get hboneAddress(): AddressInfo | undefined {
    return this.address;
  }

  get opsServers(): OpsServers | undefined {
    return this.ops;
  }

  /**
   * The port's declared protocol (config port protocol, then name; else the WDS Service port's appProtocol),
   * then DestinationRule/mesh h2UpgradePolicy; HTTP/1.1 when nothing says otherwise.
   */
  upstreamHttpVersion(host: string, port: number, subset = ''): 'http1' | 'http2' {
    const declared = this.declaredHttpVersion(host, port);
    return this.state === undefined ? (declared ?? 'http1') : this.state.upstreamHttpVersion(host, subset, port, declared);
  }

  private declaredHttpVersion(host: string, port: number): 'http1' | 'http2' | undefined {
    const p = this.state?.byHost.get(host)?.routes.service.ports.find((sp) => sp.port === port);
    const fromConfig = p === undefined ? undefined : portHttpVersion(p.protocol, p.name);
    if (fromConfig !== undefined) return fromConfig;
    const wds = this.upstream.serviceByHost(host)?.ports.find((sp) => sp.servicePort === port);
    return wds === undefined ? undefined : portHttpVersion(wds.protocol, undefined);
  }

  resolveTarget(host: string, port: number, authority: string): TunnelTarget | undefined {
    const entry = this.state?.byVipPort.get(hostPort(host, port));
    if (entry !== undefined) {
      const hostname = entry.routes.service.hostname;
      return { kind: 'service', entry, service: this.upstream.serviceByHost(hostname), hostname, port, authority };
    }
    const workload = this.upstream.workloadByIp(host);
    if (workload !== undefined && this.state !== undefined) {
      return { kind: 'workload', workload, policies: this.waypointPolicies, jwtRules: this.state.config.jwtRules, ip: host, port, authority };
    }
    return undefined;
  }

  async start(): Promise<void> {
    this.certs.prefetch(this.opts.identity);
    this.address = await this.listener.listen(this.opts.listen.host, this.opts.listen.port);
    if (this.opts.endpoints) {
      this.ops = await startOpsServers(this.opts.endpoints, this.registry, this.logger.child({ component: 'admin' }), {
        configDump: () => this.configDump(),
        notReady: () => this.notReady(),
      });
    }
    const xds = this.xds;
    if (xds) {
      xds.on('synced', () => {
        this.xdsSynced = true;
      });
      xds.on('disconnected', (d) => this.logger.warn({ reason: d.reason, retryInMs: d.retryInMs }, 'xDS stream lost; serving the last known config'));
      xds.start();
    }
    this.logger.info({ hbone: this.address, identity: formatSpiffeId(this.opts.identity) }, 'waypoint started');
  }

  /** Ready once its certificate is issued and (with xDS) the first config arrived; never while draining. */
  notReady(): string[] {
    const missing: string[] = [];
    if (this.certs.peek(this.opts.identity) === undefined) missing.push('certificate');
    if (this.xds !== undefined ? !this.xdsSynced : this.state === undefined) missing.push('config');
    if (this.drain.draining) missing.push('draining');
    return missing;
  }

  /** SIGTERM: GOAWAY to clients, let in-flight tunnels finish until the deadline, then close. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const deadline = this.opts.drainDeadlineMs ?? 5_000;
      const closing = this.listener.close(deadline);
      const result = await this.drain.start(deadline);
      if (result.forced) this.logger.warn({ remaining: result.remaining }, 'drain deadline passed; closing remaining tunnels');
      await closing;
      await this.agents.close();
      this.xds?.close();
      this.certs.close();
      await this.ops?.close();
    })();
    return this.stopping;
  }

  configDump(): Record<string, unknown> {
    return {
      identity: formatSpiffeId(this.opts.identity),
      config: this.state === undefined ? null : { name: this.state.config.name, namespace: this.state.config.namespace, services: [...this.state.byHost.keys()], problems: this.state.problems },
      services: [...this.upstream.allServices()],
      workloads: [...this.upstream.allWorkloads()].map((w) => ({ ...w, services: Object.fromEntries(w.services) })),
      clusters: this.clusters.snapshot(),
    };
  }

  private async secureContext(): Promise<SecureContext> {
    const cert = await this.certs.get(this.opts.identity, { timeoutMs: CERT_WAIT_TIMEOUT_MS });
    let ctx = this.contexts.get(cert);
    if (ctx === undefined) {
      ctx = createHboneSecureContext({ key: cert.keyPem, certChain: cert.certChainPem.join('\n'), roots: cert.rootsPem });
      this.contexts.set(cert, ctx);
    }
    return ctx;
  }
}
