import { renderMetrics, sendJson, sendText, startHttpServer, type Logger, type Registry, type RunningHttpServer } from '@mesh/core';
import type { XdsServer } from '../xds';

export interface OperationsState {
  registry: Registry;
  xds: XdsServer;
  /** Config objects istiod currently holds (after validation), for /debug/configz. */
  configObjects: () => unknown[];
  invalidConfig: () => readonly unknown[];
  /** Model state merged into /debug/configz (waypoint compiler warnings, binding conditions). */
  modelDebug?: () => Record<string, unknown>;
  ready: () => { ready: boolean; reason: string };
}

/** Monitoring (:15014): /metrics, /debug/syncz, /debug/configz, /debug/adsz (Istio's debug endpoint names). */
export function startMonitoring(host: string, port: number, s: OperationsState, logger?: Logger): Promise<RunningHttpServer> {
  return startHttpServer({
    host,
    port,
    ...(logger === undefined ? {} : { logger }),
    routes: [
      {
        path: '/metrics',
        handler: async ({ res }) => {
          const m = await renderMetrics(s.registry);
          sendText(res, 200, m.body, m.contentType);
        },
      },
      { path: '/debug/syncz', handler: ({ res }) => sendJson(res, 200, s.xds.syncz()) },
      {
        path: '/debug/adsz',
        handler: ({ res }) =>
          sendJson(res, 200, {
            totalClients: s.xds.connectionCount,
            clients: s.xds.syncz().map((c) => ({ connectionId: c.connectionId, node: c.nodeId, identity: c.identity, connectedAt: c.connectedAt })),
          }),
      },
      { path: '/debug/configz', handler: ({ res }) => sendJson(res, 200, { objects: s.configObjects(), invalid: s.invalidConfig(), ...(s.modelDebug?.() ?? {}) }) },
      { path: '/ready', handler: ({ res }) => readyHandler(res, s) },
    ],
  });
}

/** Readiness (:8080): 200 once the config source has synced and gRPC is listening. */
export function startReadiness(host: string, port: number, s: OperationsState, logger?: Logger): Promise<RunningHttpServer> {
  return startHttpServer({ host, port, ...(logger === undefined ? {} : { logger }), routes: [{ path: '/ready', handler: ({ res }) => readyHandler(res, s) }] });
}

function readyHandler(res: Parameters<typeof sendText>[0], s: OperationsState): void {
  const r = s.ready();
  sendText(res, r.ready ? 200 : 503, r.ready ? 'ready\n' : `not ready: ${r.reason}\n`);
}
