export { createLogger, setLogLevel, getLogLevel, isLogLevel, LOG_LEVELS } from './logger';
export type { Logger, LogLevel, LoggerOptions } from './logger';
