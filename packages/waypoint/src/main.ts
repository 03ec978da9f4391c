// waypoint entry point: env -> config, then the app built by waypointFromConfig; SIGTERM drains.
import { createLogger, isLogLevel, onShutdownSignal, renderHelp } from '@mesh/core';
import { waypointConfig, waypointFromConfig } from './app/index';

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(`${renderHelp(waypointConfig, 'waypoint environment variables:')}\n`);
    return;
  }
  const cfg = waypointConfig.parse();
  const logger = createLogger({ component: 'waypoint', level: isLogLevel(cfg.LOG_LEVEL) ? cfg.LOG_LEVEL : 'info' });
  const wp = waypointFromConfig(cfg, logger);
  onShutdownSignal(() => wp.stop(), { onError: (err) => logger.error({ err }, 'shutdown failed') });
  await wp.app.start();
}

main().catch((err: unknown) => {
  process.stderr.write(`waypoint failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
