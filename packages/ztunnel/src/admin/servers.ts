// Operations endpoints (Z:src/admin.rs, Z:src/metrics/server.rs, Z:src/readiness/server.rs):
// :15000 admin on localhost, :15020 Prometheus, :15021 readiness.
import {
  getLogLevel, isLogLevel, renderMetrics, sendJson, sendText, setLogLevel, startHttpServer,
  type Logger, type LogLevel, type Registry, type RunningHttpServer,
} from '@mesh/core';

export interface AdminHooks {
  configDump(): unknown;
  /** After POST /logging changed the level (data-path workers follow it). */
  logLevelChanged?(level: LogLevel): void;
  /** Graceful drain then exit. */
  quit(): void;
  /** Names of readiness conditions not yet met; empty = ready. */
  notReady(): string[];
}

export interface Endpoint {
  host: string;
  port: number;
}

export interface OpsServers {
  admin: RunningHttpServer;
  stats: RunningHttpServer;
  readiness: RunningHttpServer;
  close(): Promise<void>;
}

export async function startOpsServers(
  eps: { admin: Endpoint; stats: Endpoint; readiness: Endpoint },
  registry: Registry,
  rootLogger: Logger,
  hooks: AdminHooks,
): Promise<OpsServers> {
  const logger = rootLogger.child({ component: 'admin' });
  const metricsRoute = async ({ res }: { res: import('node:http').ServerResponse }): Promise<void> => {
    const m = await renderMetrics(registry);
    sendText(res, 200, m.body, m.contentType);
  };
  const admin = await startHttpServer({
    ...eps.admin,
    logger,
    routes: [
      { path: '/config_dump', handler: async ({ res }) => sendJson(res, 200, await hooks.configDump()) },
      {
        path: '/logging',
        methods: ['GET', 'POST'],
        handler: ({ req, res, url }) => {
          const level = url.searchParams.get('level');
          if (req.method === 'POST' && level !== null) {
            if (!isLogLevel(level)) return sendText(res, 400, `invalid level ${level}\n`);
            setLogLevel(rootLogger, level);
            hooks.logLevelChanged?.(level);
          }
          sendText(res, 200, `current log level is ${getLogLevel(rootLogger)}\n`);
        },
      },
      {
        path: '/quitquitquit',
        methods: ['POST'],
        handler: ({ res }) => {
          sendText(res, 200, 'OK\n');
          hooks.quit();
        },
      },
      { path: '/', handler: ({ res }) => sendText(res, 200, '/config_dump\n/logging\n/quitquitquit\n/stats/prometheus\n') },
    ],
  });
  const stats = await startHttpServer({
    ...eps.stats,
    logger,
    routes: [
      { path: '/metrics', handler: metricsRoute },
      { path: '/stats/prometheus', handler: metricsRoute },
    ],
  });
  const readiness = await startHttpServer({
    ...eps.readiness,
    logger,
    routes: [
      {
        path: '/healthz/ready',
        handler: ({ res }) => {
          const missing = hooks.notReady();
          if (missing.length === 0) sendText(res, 200, 'ready\n');
          else sendText(res, 503, `not ready: ${missing.join(', ')}\n`);
        },
      },
    ],
  });
  return {
    admin, stats, readiness,
    close: async () => {
      await Promise.all([admin.close(), stats.close(), readiness.close()]);
    },
  };
}
