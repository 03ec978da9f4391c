// ztunnel entry point: env -> config, then the app built by ztunnelFromConfig; SIGTERM drains.
import { createLogger, isLogLevel, onShutdownSignal, renderHelp } from '@mesh/core';
import { ztunnelConfig, ztunnelFromConfig } from './app/index';

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(`${renderHelp(ztunnelConfig, 'ztunnel environment variables:')}\n`);
    return;
  }
  const cfg = ztunnelConfig.parse();
  const logger = createLogger({ component: 'ztunnel', level: isLogLevel(cfg.LOG_LEVEL) ? cfg.LOG_LEVEL : 'info' });
  // A dead data-path worker leaves a share of every pod's connections unserved: fail loudly, get restarted.
  const zt = ztunnelFromConfig(cfg, logger, () => process.exit(0), () => process.exit(1));
  onShutdownSignal(() => zt.stop(), { onError: (err) => logger.error({ err }, 'shutdown failed') });
  await zt.app.start();
}

main().catch((err: unknown) => {
  process.stderr.write(`ztunnel failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
