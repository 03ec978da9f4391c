// Operations endpoints as Istio's waypoint pod exposes them: :15020 merged Prometheus metrics, :15021
// readiness (/healthz/ready), and a localhost :15000 admin with /config_dump.
import type { ServerResponse } from 'node:http';
import { renderMetrics, sendJson, sendText, startHttpServer, type Logger, type Registry, type RunningHttpServer } from '@mesh/core';

export interface Endpoint {
  host: string;
  port: number;
}

export interface OpsHooks {
  configDump(): unknown;
  /** Readiness conditions not yet met; empty = ready. */
  notReady(): string[];
}

export interface OpsServers {
  readonly admin: RunningHttpServer;
  readonly stats: RunningHttpServer;
  readonly readiness: RunningHttpServer;
  close(): Promise<void>;
}

export async function startOpsServers(
  eps: { admin: Endpoint; stats: Endpoint; readiness: Endpoint },
  registry: Registry,
  logger: Logger,
  hooks: OpsHooks,
): Promise<OpsServers> {
  const metrics = async ({ res }: { res: ServerResponse }): Promise<void> => {
    const m = await renderMetrics(registry);
    sendText(res, 200, m.body, m.contentType);
  };
  const stats = await startHttpServer({ ...eps.stats, logger, routes: [{ path: '/metrics', handler: metrics }, { path: '/stats/prometheus', handler: metrics }] });
  const readiness = await startHttpServer({
    ...eps.readiness,
    logger,
    routes: [{
      path: '/healthz/ready',
      handler: ({ res }) => {
        const missing = hooks.notReady();
        if (missing.length === 0) sendText(res, 200, 'ready\n');
        else sendText(res, 503, `not ready: ${missing.join(', ')}\n`);
      },
    }],
  });
  const admin = await startHttpServer({ ...eps.admin, logger, routes: [{ path: '/config_dump', handler: ({ res }) => sendJson(res, 200, hooks.configDump()) }] });
  return {
    admin, stats, readiness,
    close: async () => {
      await Promise.all([admin.close(), stats.close(), readiness.close()]);
    },
  };
}
