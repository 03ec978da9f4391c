import { appendFileSync } from 'node:fs';

export type PluginLogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVEL_RANK: Record<PluginLogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface PluginLogger {
  log(level: PluginLogLevel, msg: string, fields?: Record<string, unknown>): void;
}

/**
 * The plugin must never write logs to stdout (that is the CNI result channel), and it runs too
 * briefly for pino to pay off, so it appends JSON lines to a file. Write failures are ignored:
 * logging must never fail a pod's network setup.
 */
export function createFileLogger(path: string | undefined, level: string): PluginLogger {
  const min = LEVEL_RANK[level as PluginLogLevel] ?? LEVEL_RANK.info;
  return {
    log(lvl, msg, fields = {}) {
      if (!path || LEVEL_RANK[lvl] < min) return;
      const line = JSON.stringify({ time: new Date().toISOString(), level: lvl, component: 'istio-cni', msg, ...fields });
      try {
        appendFileSync(path, `${line}\n`);
      } catch {
        // run dir missing or read-only: drop the line
      }
    },
  };
}

export const NULL_LOGGER: PluginLogger = { log: () => undefined };
