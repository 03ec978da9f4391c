// ztunnel entry point: env -> config, xDS into the store, CA-backed certificates, ZDS, ops endpoints.
import fs from 'node:fs';
import { createLogger, isLogLevel, onShutdownSignal, renderHelp } from '@mesh/core';
import { AuthorizationSchema, toJson, workload, WorkloadSchema } from '@mesh/api';
import { createCaFetch, createXdsClient, grpcTarget, interimDecider, interimInboundResolver, ZtunnelApp, ztunnelConfig } from './app/index';
import { Authorizer } from './rbac/index';
import { MeshState, parseSpiffeUri } from './state/index';

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    process.stdout.write(`${renderHelp(ztunnelConfig, 'ztunnel environment variables:')}\n`);
    return;
  }
  const cfg = ztunnelConfig.parse();
  const logger = createLogger({ component: 'ztunnel', level: isLogLevel(cfg.LOG_LEVEL) ? cfg.LOG_LEVEL : 'info' });
  const rootPem = fs.readFileSync(cfg.ROOT_CERT);
  const state = new MeshState();
  const rbac = new Authorizer(state);
  const xdsTarget = grpcTarget(cfg.XDS_ADDRESS, cfg.XDS_SERVER_NAME);
  const caTarget = grpcTarget(cfg.CA_ADDRESS, cfg.CA_SERVER_NAME);
  const ca = createCaFetch({
    target: caTarget.target, serverName: caTarget.serverName, rootCertPem: rootPem, tokenFile: cfg.TOKEN_FILE,
    clusterId: cfg.ISTIO_META_CLUSTER_ID, ttlMs: cfg.SECRET_TTL,
  });
  const xds = createXdsClient({
    target: xdsTarget.target, serverName: xdsTarget.serverName,
    rootCertPem: cfg.XDS_ROOT_CA ? fs.readFileSync(cfg.XDS_ROOT_CA) : rootPem, tokenFile: cfg.TOKEN_FILE,
    clusterId: cfg.ISTIO_META_CLUSTER_ID, instanceIp: cfg.INSTANCE_IP, podName: cfg.POD_NAME, podNamespace: cfg.POD_NAMESPACE,
    nodeName: cfg.NODE_NAME, logger: logger.child({ component: 'xds' }),
  }, state);
  const app = new ZtunnelApp({
    state, xds, logger,
    decide: interimDecider(state, cfg.NETWORK, cfg.TRUST_DOMAIN),
    resolveInbound: interimInboundResolver,
    authorize: (r) => {
      const d = rbac.authorize({
        srcIp: r.sourceIp, srcIdentity: r.sourceIdentity ? parseSpiffeUri(r.sourceIdentity) : undefined,
        dstIp: r.destinationIp, dstPort: r.destinationPort, dstWorkload: r.destination,
      });
      return { allowed: d.allow, reason: d.policy };
    },
    fetchCertificate: ca.fetch,
    zdsPath: cfg.INPOD_UDS, trustDomain: cfg.TRUST_DOMAIN, network: cfg.NETWORK, nodeName: cfg.NODE_NAME,
    packetMark: cfg.PACKET_MARK, portReuse: cfg.INPOD_PORT_REUSE, ipv6Enabled: cfg.IPV6_ENABLED,
    drainDeadlineMs: cfg.CONNECTION_TERMINATION_DEADLINE,
    endpoints: {
      admin: { host: cfg.ADMIN_ADDR, port: cfg.ADMIN_PORT },
      stats: { host: cfg.STATS_ADDR, port: cfg.STATS_PORT },
      readiness: { host: cfg.READINESS_ADDR, port: cfg.READINESS_PORT },
    },
    dumpState: () => ({
      workloads: [...state.allWorkloads()].map((w) => toJson(WorkloadSchema, w)),
      services: [...state.allServices()].map((s) => toJson(workload.ServiceSchema, s)),
      policies: [...state.policies.values()].map((p) => toJson(AuthorizationSchema, p)),
    }),
    onExit: () => process.exit(0),
  });
  onShutdownSignal(async () => {
    await app.stop();
    ca.close();
  }, { onError: (err) => logger.error({ err }, 'shutdown failed') });
  await app.start();
}

main().catch((err: unknown) => {
  process.stderr.write(`ztunnel failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
