import { createLogger, type Logger } from '@mesh/core';

/** A real pino logger whose JSON lines are kept in memory, so tests can assert on what operators see. */
export function captureLogger(): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const raw: string[] = [];
  const logger = createLogger({ component: 'test', level: 'debug', destination: { write: (s: string) => void raw.push(s) } });
  return { logger, lines: () => raw.map((l) => JSON.parse(l) as Record<string, unknown>) };
}
