import fs from 'node:fs';
import type { NetLogger } from './types';

/**
 * pino-compatible JSON lines appended synchronously to `file` (info and up), so what a meshctl invocation did
 * to processes (pod removal kills, components started) outlives it beside the components' logs. A missing
 * directory drops the line instead of recreating a state dir that `down` just removed.
 */
export function fileLogger(file: string, fields: Record<string, unknown> = {}): NetLogger {
  const write = (level: string, obj: object, msg?: string) => {
    const line = { level, time: new Date().toISOString(), component: 'meshctl', meshctlPid: process.pid, ...fields, ...obj, msg };
    try {
      fs.appendFileSync(file, JSON.stringify(line) + '\n');
    } catch {
      // No log dir (cluster down or not up yet): nothing to keep the line in.
    }
  };
  return { debug: () => undefined, info: (obj, msg) => write('info', obj, msg) };
}
