import { experimental, Server, type ServerCredentials } from '@grpc/grpc-js';
import { createLogger, createMetricsRegistry, type Logger, type RunningHttpServer } from '@mesh/core';
import type { CertificateAuthority } from '@mesh/identity';
import {
  cachedTokenReviewer,
  kubePodLookup,
  kubeTokenReviewAuthenticator,
  kubeTokenReviewer,
  loadKubeConfig,
  tokenFileAuthenticator,
  withClusterCheck,
  xdsAuthenticatorOf,
  type Authenticator,
} from '../auth';
import {
  applyPodEvent,
  CaService,
  directoryCaStore,
  InMemoryNodePodIndex,
  issueServingCert,
  kubernetesCaSecretStore,
  openCa,
  publishRootCert,
  RotatingServingCert,
  type CaReloader,
} from '../ca';
import { ConfigStore, DirectorySource, KubernetesSource, WATCHED_RESOURCES } from '../config';
import { XdsServer } from '../xds';
import { parseConfigSource, type ConfigSourceSpec, type IstiodConfig } from './config';
import { ambientModel } from './ambient-model';
import type { MeshSettings, ModelFactory } from './model-seam';
import { startMonitoring, startReadiness } from './operations';
import { IstiodStartError } from './errors';
import { startKubeWriters, type KubeWriters } from './kube-writers';

export interface IstiodOptions {
  config: IstiodConfig;
  logger?: Logger;
  createModel?: ModelFactory;
}

export interface RunningIstiod {
  readonly grpcPort: number;
  readonly monitoringUrl: string;
  readonly readinessUrl: string;
  readonly ca: CertificateAuthority;
  stop(): Promise<void>;
}

/**
 * Startup order (as istiod's bootstrap): CA root -> serving cert -> gRPC server (xDS + CA) -> operations
 * endpoints -> config source -> model feeding xDS -> ready. Config problems are logged and ignored by the
 * store; only unusable process settings (ports, CA material, auth setup) fail the start.
 */
export async function startIstiod(options: IstiodOptions): Promise<RunningIstiod> {
  const cfg = options.config;
  const log = options.logger ?? createLogger({ component: 'istiod', level: cfg.LOG_LEVEL });
  const source = parseConfigSource(cfg.CONFIG_SOURCE);
  if (source === undefined) throw new IstiodStartError({ setting: 'CONFIG_SOURCE', reason: `"${cfg.CONFIG_SOURCE}" is neither "kubernetes" nor "dir:<path>"` });
  const kc = source.kind === 'kubernetes' ? loadKubeConfig() : undefined;
  const stops: (() => Promise<void> | void)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const s of stops.reverse()) await Promise.resolve(s()).catch((err: unknown) => log.warn({ err }, 'error during shutdown'));
  };
  try {
    const ca = await loadCa(cfg, source, kc, log);
    stops.push(() => ca.stop());
    if (cfg.ROOT_CERT_OUTPUT !== '') publishRootCert(cfg.ROOT_CERT_OUTPUT, ca.current().rootCertPem);
    const serving = new RotatingServingCert(
      () => issueServingCert({ ca: ca.current(), dnsNames: [`istiod.${cfg.ISTIO_NAMESPACE}.svc`, ...cfg.ISTIOD_DNS_NAMES], trustDomain: cfg.TRUST_DOMAIN, namespace: cfg.ISTIO_NAMESPACE, ttlMs: cfg.ISTIOD_SERVING_CERT_TTL }),
      log.child({ component: 'istiod-serving-cert' }),
    );
    await serving.start();
    stops.push(() => serving.stop());

    const registry = createMetricsRegistry({ processMetrics: cfg.PROCESS_METRICS });
    let writers: KubeWriters | undefined;
    const configStore = new ConfigStore({ logger: log.child({ component: 'istiod-config' }), onInvalid: () => writers?.onInvalid() });
    const configObjects = new Map<string, unknown>();
    configStore.subscribe((e) => {
      const key = `${e.kind}/${e.namespace}/${e.name}`;
      if (e.type === 'delete') configObjects.delete(key);
      else configObjects.set(key, e.object);
    });
    const model = (options.createModel ?? ambientModel)(configStore, meshSettings(cfg), log.child({ component: 'istiod-model' }));
    if (model.stop !== undefined) stops.push(() => model.stop?.());
    const podIndex = model.nodePodIndex ?? ownPodIndex(configStore);

    const authenticate = withClusterCheck(cfg.CLUSTER_ID, createAuthenticator(cfg, source, kc, log));
    const grpc = new Server();
    const xds = new XdsServer({
      store: model.xdsStore,
      authenticate: xdsAuthenticatorOf(authenticate, cfg.TRUST_DOMAIN),
      registry,
      logger: log.child({ component: 'istiod-xds' }),
      debounceAfterMs: cfg.PILOT_DEBOUNCE_AFTER,
      debounceMaxMs: cfg.PILOT_DEBOUNCE_MAX,
      sendBudgetBytes: cfg.XDS_SEND_BUDGET_BYTES,
    });
    xds.register(grpc);
    new CaService({
      ca: () => ca.current(),
      authenticate,
      nodeIndex: podIndex,
      trustDomain: cfg.TRUST_DOMAIN,
      trustedNodeAccounts: cfg.CA_TRUSTED_NODE_ACCOUNTS,
      maxTtlMs: cfg.MAX_WORKLOAD_CERT_TTL,
      defaultTtlMs: cfg.DEFAULT_WORKLOAD_CERT_TTL,
      registry,
      logger: log.child({ component: 'istiod-ca' }),
    }).register(grpc);
    const creds = experimental.createCertificateProviderServerCredentials(serving, null, false);
    const grpcPort = await bind(grpc, creds, cfg.BIND_ADDRESS, cfg.GRPC_PORT);
    stops.push(() => shutdownGrpc(grpc, xds));

    let synced = false;
    const state = {
      registry,
      xds,
      configObjects: () => [...configObjects.values()],
      invalidConfig: () => configStore.invalidResources(),
      modelDebug: () => model.debug?.() ?? {},
      ready: () => ({ ready: synced, reason: synced ? '' : 'config source not synced yet' }),
    };
    const monitoring = await startMonitoring(cfg.BIND_ADDRESS, cfg.MONITORING_PORT, state, log);
    stops.push(() => monitoring.close());
    const readiness: RunningHttpServer = await startReadiness(cfg.BIND_ADDRESS, cfg.READINESS_PORT, state, log);
    stops.push(() => readiness.close());

    const stopSource = await startConfigSource(source, configStore, kc, cfg, log);
    stops.push(stopSource);
    if (source.kind === 'kubernetes' && kc !== undefined) {
      const conditions = model.conditions === undefined ? () => [] : () => model.conditions?.() ?? [];
      const w = startKubeWriters(cfg, kc, configStore, () => ca.current().rootCertPem, conditions, log);
      writers = w;
      stops.push(() => w.stop());
    }
    followCaChanges(ca, serving, cfg, () => writers);
    ca.start();
    synced = true;
    log.info({ grpcPort, monitoring: monitoring.url, readiness: readiness.url, configSource: cfg.CONFIG_SOURCE }, 'istiod ready');
    return { grpcPort, monitoringUrl: monitoring.url, readinessUrl: readiness.url, get ca() { return ca.current(); }, stop: stopAll };

  } catch (err) {
    await stopAll();
    throw err;
  }
}

function bind(server: Server, creds: ServerCredentials, host: string, port: number): Promise<number> {
  const addr = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve, reject) =>
    server.bindAsync(addr, creds, (err, p) =>
      err ? reject(new IstiodStartError({ setting: 'GRPC_PORT', reason: `cannot listen on ${addr}: ${err.message}` }, { cause: err })) : resolve(p),
    ),
  );
}

async function loadCa(cfg: IstiodConfig, source: ConfigSourceSpec, kc: ReturnType<typeof loadKubeConfig> | undefined, log: Logger): Promise<CaReloader> {
  return openCa({
    pluginDir: cfg.CACERTS_DIR,
    store: () => (source.kind === 'kubernetes' && kc !== undefined ? kubernetesCaSecretStore(kc, cfg.ISTIO_NAMESPACE) : directoryCaStore(cfg.CA_STATE_DIR)),
    trustDomain: cfg.TRUST_DOMAIN,
    maxTtlMs: cfg.MAX_WORKLOAD_CERT_TTL,
    defaultTtlMs: cfg.DEFAULT_WORKLOAD_CERT_TTL,
    reloadIntervalMs: cfg.CA_RELOAD_INTERVAL,
    logger: log.child({ component: 'istiod-ca' }),
  });
}

/** On a CA rotation: re-sign istiod's serving cert; on a new root, republish it (file and ConfigMaps). */
function followCaChanges(ca: CaReloader, serving: RotatingServingCert, cfg: IstiodConfig, writers: () => KubeWriters | undefined): void {
  ca.onChange(async (change) => {
    if (change.rootChanged && cfg.ROOT_CERT_OUTPUT !== '') publishRootCert(cfg.ROOT_CERT_OUTPUT, change.current.rootCertPem);
    if (change.rootChanged) writers()?.rootChanged();
    await serving.rotateNow();
  });
}

function createAuthenticator(cfg: IstiodConfig, source: ConfigSourceSpec, kc: ReturnType<typeof loadKubeConfig> | undefined, log: Logger): Authenticator {
  if (cfg.AUTH_TOKENS_FILE !== '') return tokenFileAuthenticator({ path: cfg.AUTH_TOKENS_FILE, logger: log });
  if (source.kind === 'kubernetes' && kc !== undefined) {
    return kubeTokenReviewAuthenticator({ review: cachedTokenReviewer(kubeTokenReviewer(kc)), lookupPod: kubePodLookup(kc), logger: log });
  }
  throw new IstiodStartError({ setting: 'AUTH_TOKENS_FILE', reason: 'directory mode needs a tokens file to authenticate ztunnels (there is no TokenReview)' });
}

function ownPodIndex(store: ConfigStore): InMemoryNodePodIndex {
  const index = new InMemoryNodePodIndex();
  store.subscribe((e) => applyPodEvent(index, e));
  return index;
}

async function startConfigSource(source: ConfigSourceSpec, store: ConfigStore, kc: ReturnType<typeof loadKubeConfig> | undefined, cfg: IstiodConfig, log: Logger): Promise<() => Promise<void> | void> {
  const ignored = cfg.KUBE_IGNORED_RESOURCES;
  if (source.kind === 'dir') {
    const dir = new DirectorySource({ dir: source.path, store, debounceMs: cfg.CONFIG_DIR_DEBOUNCE, logger: log.child({ component: 'istiod-config-dir' }) });
    await dir.start();
    return () => dir.stop();
  }
  const resources = WATCHED_RESOURCES.filter((r) => !ignored.includes(r.plural));
  const kube = new KubernetesSource({ kubeConfig: kc ?? loadKubeConfig(), store, resources, logger: log.child({ component: 'istiod-config-kube' }) });
  kube.start();
  await kube.waitForSync();
  return () => kube.stop();
}

function meshSettings(cfg: IstiodConfig): MeshSettings {
  return {
    clusterId: cfg.CLUSTER_ID, domainSuffix: cfg.DOMAIN_SUFFIX, rootNamespace: cfg.MESH_ROOT_NAMESPACE, trustDomain: cfg.TRUST_DOMAIN, network: cfg.NETWORK,
    h2UpgradePolicy: cfg.MESH_H2_UPGRADE_POLICY,
  };
}

/** Graceful: stop accepting, let in-flight CA calls finish for a moment, then cut the (endless) xDS streams so clients reconnect. */
async function shutdownGrpc(grpc: Server, xds: XdsServer): Promise<void> {
  const GRACE_MS = 1_000;
  xds.close();
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      grpc.forceShutdown();
      resolve();
    }, GRACE_MS);
    t.unref();
    grpc.tryShutdown(() => {
      clearTimeout(t);
      resolve();
    });
  });
}
