import { createLogger, onShutdownSignal, renderHelp, sendText, startHttpServer } from '@mesh/core';
import { NodeAgent } from './agent';
import { agentConfig } from './config';

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    process.stdout.write(renderHelp(agentConfig, 'cni-agent: the istio-cni node agent (ambient). Environment variables:'));
    return;
  }
  const config = agentConfig.parse();
  const logger = createLogger({ component: 'cni-agent', level: config.LOG_LEVEL });
  const agent = await NodeAgent.start({ config, logger });
  const readiness =
    config.READINESS_PORT === 0
      ? undefined
      : await startHttpServer({
          host: '0.0.0.0',
          port: config.READINESS_PORT,
          logger,
          routes: [{ path: '/readyz', handler: ({ res }) => sendText(res, agent.ready ? 200 : 503, agent.ready ? 'ok\n' : 'stopping\n') }],
        });
  onShutdownSignal(
    async (signal) => {
      logger.info({ signal }, 'shutting down');
      await agent.stop(false);
      await readiness?.close();
    },
    { onError: (err) => logger.error({ err }, 'shutdown failed') },
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`cni-agent: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
