import { join } from 'node:path';
import type { Logger } from '@mesh/core';
import { closeNetnsExecPool, prewarmNetnsExec, type InPodRedirectionConfig, type NetnsExecOptions } from '../iptables';
import { CNI_EVENT_SOCKET_NAME } from '../plugin';
import { ZdsServer } from '../zds';
import { CniEventServer } from './cni-server';
import type { AgentConfig } from './config';
import { PodController } from './controller';
import { MeshDataplane } from './dataplane';
import { DirectoryPodAnnotator } from './directory-annotator';
import { DirectoryPodSource } from './directory-pod-source';
import { HostProbe } from './host-probe';
import { KubePodAnnotator } from './kube-annotator';
import { loadKubeConfig } from './kube-http';
import { KubernetesPodSource } from './kube-pod-source';
import type { RetryPolicy } from './keyed-queue';
import { AnnotationNetnsResolver, ChainNetnsResolver, ProcCgroupNetnsResolver, type NetnsResolver } from './netns-resolver';
import type { PodAnnotator, PodSource } from './pod-source';

export interface NodeAgentOptions {
  readonly config: AgentConfig;
  readonly logger: Logger;
  readonly retry?: RetryPolicy;
}

/**
 * The istio-cni node agent in ambient mode: pod source -> controller -> dataplane (in-pod rules,
 * host probe, ZDS, annotations), plus the plugin's event socket. Start order follows Istio
 * (server.go): warm caches, build the snapshot, start the ZDS server, then accept plugin events.
 */
export class NodeAgent {
  readonly zds: ZdsServer;
  readonly controller: PodController;
  readonly dataplane: MeshDataplane;
  readonly #source: PodSource;
  readonly #cni: CniEventServer;
  readonly #hostProbe: HostProbe | undefined;
  readonly #log: Logger;
  #stopped = false;

  private constructor(parts: {
    zds: ZdsServer;
    controller: PodController;
    dataplane: MeshDataplane;
    source: PodSource;
    cni: CniEventServer;
    hostProbe: HostProbe | undefined;
    logger: Logger;
  }) {
    this.zds = parts.zds;
    this.controller = parts.controller;
    this.dataplane = parts.dataplane;
    this.#source = parts.source;
    this.#cni = parts.cni;
    this.#hostProbe = parts.hostProbe;
    this.#log = parts.logger;
  }

  static async start(opts: NodeAgentOptions): Promise<NodeAgent> {
    const { config: c, logger } = opts;
    const { source, annotator } = podSourceFor(c, logger);
    const redirection: Partial<InPodRedirectionConfig> = {
      redirectDns: c.AMBIENT_DNS_CAPTURE,
      enableIpv6: c.AMBIENT_IPV6,
      nativeNftables: c.NATIVE_NFTABLES,
      hostProbeSnatIpv4: c.HOST_PROBE_SNAT_IP,
      hostProbeSnatIpv6: c.HOST_PROBE_SNAT_IPV6,
    };
    const hostProbe = c.AMBIENT_HOST_PROBE_ENABLED ? new HostProbe(c.HOST_NETNS || undefined, redirection, logger) : undefined;
    // Pooled mesh-netns-exec helpers: no spawn on an ADD's path (NetnsExecOptions.pooled).
    const exec: NetnsExecOptions = { netnsExecHelper: c.NETNS_EXEC_HELPER, pooled: true };
    // The ZDS server needs the cache for snapshots and the dataplane needs the server: late-bound.
    const link: { server?: ZdsServer } = {};
    const dataplane = new MeshDataplane({
      ztunnel: {
        addWorkload: (uid, w, fd) => link.server!.addWorkload(uid, w, fd),
        delWorkload: (uid) => link.server!.delWorkload(uid),
      },
      annotator,
      redirection,
      exec,
      hostProbe,
      logger,
    });
    const controller = new PodController({
      source,
      dataplane,
      resolver: resolverFor(c.NETNS_RESOLVER),
      excludedNamespaces: c.EXCLUDED_NAMESPACES,
      logger,
      retry: opts.retry,
      podWaitMs: c.CNI_POD_WAIT,
    });
    await source.start({ onPod: (e) => controller.onPod(e), onNamespace: (e) => controller.onNamespace(e) });
    await hostProbe?.start();
    await controller.adoptExisting();
    const zds = ZdsServer.listen({ path: c.ZTUNNEL_UDS_ADDRESS, logger, snapshot: () => dataplane.cache.snapshot(), ackTimeoutMs: c.ZDS_ACK_TIMEOUT });
    link.server = zds;
    const cni = await CniEventServer.listen(join(c.CNI_AGENT_RUN_DIR, CNI_EVENT_SOCKET_NAME), (ev) => controller.handleCniAdd(ev), logger);
    controller.resyncAll();
    prewarmNetnsExec(exec);
    logger.info({ node: c.NODE_NAME, zds: c.ZTUNNEL_UDS_ADDRESS, runDir: c.CNI_AGENT_RUN_DIR }, 'CNI node agent started');
    return new NodeAgent({ zds, controller, dataplane, source, cni, hostProbe, logger });
  }

  get ready(): boolean {
    return !this.#stopped;
  }

  /**
   * Stops serving and lets go of every netns fd. Pods keep their rules (Istio: an agent restart or
   * upgrade must not un-redirect pods); `cleanupHost` also removes the host probe rule and ipsets.
   */
  async stop(cleanupHost = false): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#cni.close();
    await this.#source.stop();
    await this.controller.stop();
    this.zds.close();
    if (cleanupHost) await this.#hostProbe?.stop();
    this.dataplane.cache.clear();
    closeNetnsExecPool();
    this.#log.info('CNI node agent stopped');
  }
}

function podSourceFor(c: AgentConfig, logger: Logger): { source: PodSource; annotator: PodAnnotator } {
  const log = logger.child({ sub: 'source' });
  if (c.POD_SOURCE === 'kubernetes') {
    const kubeConfig = loadKubeConfig(c.KUBECONFIG);
    return { source: new KubernetesPodSource({ kubeConfig, nodeName: c.NODE_NAME, logger: log }), annotator: new KubePodAnnotator(kubeConfig, log) };
  }
  if (c.POD_SOURCE_DIR === '') throw new Error('POD_SOURCE_DIR must name the manifest directory in directory mode');
  const source = new DirectoryPodSource({ dir: c.POD_SOURCE_DIR, nodeName: c.NODE_NAME, logger: log });
  return { source, annotator: new DirectoryPodAnnotator(source) };
}

function resolverFor(kind: AgentConfig['NETNS_RESOLVER']): NetnsResolver {
  if (kind === 'annotation') return new AnnotationNetnsResolver();
  if (kind === 'proc') return new ProcCgroupNetnsResolver();
  return new ChainNetnsResolver([new AnnotationNetnsResolver(), new ProcCgroupNetnsResolver()]);
}
