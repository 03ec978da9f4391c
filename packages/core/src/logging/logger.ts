import { destination, pino, stdTimeFunctions } from 'pino';
import type { DestinationStream, Logger as PinoLogger } from 'pino';
import { InvalidLogLevelError } from '../errors/catalogue';

export type Logger = PinoLogger;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  /** Becomes the `component` field of every line (e.g. "ztunnel", "xds"). */
  component: string;
  level?: LogLevel;
  /**
   * Where JSON lines go. Default: stderr (fd 2), written synchronously so nothing is lost on crash.
   * stderr, not stdout, because some of our binaries own stdout (the CNI plugin prints its result there).
   */
  destination?: DestinationStream;
  /** Extra fields on every line. */
  base?: Record<string, unknown>;
}

/**
 * Every logger created by createLogger belongs to a family (root + all descendants) so that a runtime
 * level change from the admin server (ztunnel's `/logging?level=`) reaches child loggers that already
 * exist; pino children otherwise keep the level they were created with.
 */
interface Family {
  members: Set<WeakRef<PinoLogger>>;
  root: WeakRef<PinoLogger>;
  pruneAt: number;
}
const families = new WeakMap<PinoLogger, Family>();

export function isLogLevel(level: string): level is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(level);
}

export function createLogger(options: LoggerOptions): Logger {
  const family: Family = { members: new Set(), root: new WeakRef({} as PinoLogger), pruneAt: 64 };
  const logger = pino(
    {
      level: options.level ?? 'info',
      base: { component: options.component, ...options.base },
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      onChild: (child) => register(family, child),
    },
    options.destination ?? destination({ dest: 2, sync: true }),
  );
  family.root = new WeakRef(logger);
  register(family, logger);
  return logger;
}

function register(family: Family, logger: PinoLogger): void {
  families.set(logger, family);
  family.members.add(new WeakRef(logger));
  if (family.members.size >= family.pruneAt) {
    for (const ref of family.members) if (ref.deref() === undefined) family.members.delete(ref);
    family.pruneAt = Math.max(64, family.members.size * 2);
  }
}

/**
 * Set the level of `logger`'s whole family (the root createLogger returned and every child), or only
 * of loggers whose `component` binding equals `component`. Returns how many loggers changed.
 */
export function setLogLevel(logger: Logger, level: string, component?: string): number {
  if (!isLogLevel(level)) throw new InvalidLogLevelError({ level, allowed: LOG_LEVELS });
  const family = families.get(logger);
  if (family === undefined) {
    logger.level = level;
    return 1;
  }
  let changed = 0;
  for (const ref of family.members) {
    const member = ref.deref();
    if (member === undefined) {
      family.members.delete(ref);
      continue;
    }
    if (component !== undefined && member.bindings()['component'] !== component) continue;
    member.level = level;
    changed++;
  }
  return changed;
}

/** The level of the family's root logger (what admin `/logging` reports). */
export function getLogLevel(logger: Logger): string {
  return families.get(logger)?.root.deref()?.level ?? logger.level;
}
