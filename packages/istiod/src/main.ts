import { createLogger, isMeshError, onShutdownSignal, renderHelp } from '@mesh/core';
import { argvToEnv, istiodConfig } from './app/config';
import { startIstiod } from './app/istiod';

// The only place that reads process.env/argv; everything else receives the parsed config.
const { env, help, unknown } = argvToEnv(process.argv.slice(2), process.env);
if (help) {
  process.stdout.write(`istiod: ambient control plane (xDS + CA on one gRPC port).\nSettings (env vars, or --name=value flags):\n\n${renderHelp(istiodConfig)}\n`);
  process.exit(0);
}
const bootLog = createLogger({ component: 'istiod' });
if (unknown.length > 0) {
  bootLog.fatal({ unknown }, `unknown arguments: ${unknown.join(' ')} (see --help)`);
  process.exit(2);
}

async function main(): Promise<void> {
  let config;
  try {
    config = istiodConfig.parse(env);
  } catch (err) {
    bootLog.fatal({ code: isMeshError(err) ? err.code : undefined }, err instanceof Error ? err.message : String(err));
    process.exit(2);
  }
  const log = createLogger({ component: 'istiod', level: config.LOG_LEVEL });
  const istiod = await startIstiod({ config, logger: log });
  onShutdownSignal(async (signal) => {
    log.info({ signal }, 'shutting down');
    await istiod.stop();
  }, { onError: (err) => log.error({ err }, 'shutdown failed') });
}

main().catch((err: unknown) => {
  bootLog.fatal({ err, code: isMeshError(err) ? err.code : undefined }, `istiod failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
