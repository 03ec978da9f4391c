import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, onShutdownSignal, renderHelp, sendText, startHttpServer, type Logger } from '@mesh/core';
import { CniInstaller, NATIVE_PLUGIN_OFF, PLUGIN_SCRIPT_FILENAME } from '../install';
import { NodeAgent } from './agent';
import { agentConfig, type AgentConfig } from './config';

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    process.stdout.write(renderHelp(agentConfig, 'cni-agent: the istio-cni node agent (ambient). Environment variables:'));
    return;
  }
  const config = agentConfig.parse();
  const logger = createLogger({ component: 'cni-agent', level: config.LOG_LEVEL });
  const agent = await NodeAgent.start({ config, logger });
  // Installed after the agent serves /cmdadd, so a pod the plugin sends is never refused (Istio starts
  // the node agent server before the installer too).
  const installer = config.CNI_INSTALL ? pluginInstaller(config, logger) : undefined;
  installer?.start();
  const ready = (): boolean => agent.ready && (installer?.installed ?? true);
  const readiness =
    config.READINESS_PORT === 0
      ? undefined
      : await startHttpServer({
          host: '0.0.0.0',
          port: config.READINESS_PORT,
          logger,
          routes: [{ path: '/readyz', handler: ({ res }) => sendText(res, ready() ? 200 : 503, ready() ? 'ok\n' : 'not ready\n') }],
        });
  onShutdownSignal(
    async (signal) => {
      logger.info({ signal }, 'shutting down');
      if (config.CNI_UNINSTALL_ON_SHUTDOWN) await installer?.uninstall();
      else await installer?.stop();
      await agent.stop(false);
      await readiness?.close();
    },
    { onError: (err) => logger.error({ err }, 'shutdown failed') },
  );
}

function pluginInstaller(c: AgentConfig, logger: Logger): CniInstaller {
  return new CniInstaller({
    binDir: c.CNI_BIN_TARGET_DIR,
    confDir: c.MOUNTED_CNI_NET_DIR,
    pluginPath: c.CNI_PLUGIN_PATH || join(dirname(fileURLToPath(import.meta.url)), PLUGIN_SCRIPT_FILENAME),
    chained: c.CHAINED_CNI_PLUGIN,
    istioOwnedCniConfig: c.ISTIO_OWNED_CNI_CONFIG,
    cniConfName: c.CNI_CONF_NAME || undefined,
    nativePluginPath: nativePluginSetting(c.CNI_NATIVE_PLUGIN_PATH),
    nodeBinaryPath: c.CNI_PLUGIN_COPY_NODE ? process.execPath : undefined,
    pluginConfig: {
      ambient_enabled: true,
      exclude_namespaces: c.EXCLUDED_NAMESPACES,
      cni_agent_run_dir: c.CNI_AGENT_RUN_DIR,
      pod_namespace: c.POD_NAMESPACE,
      plugin_log_level: c.LOG_LEVEL,
    },
    logger: logger.child({ sub: 'install' }),
  });
}

/** CNI_NATIVE_PLUGIN_PATH: "off" = never the native plugin, empty = look it up, else that file. */
function nativePluginSetting(value: string): string | false | undefined {
  if (value === NATIVE_PLUGIN_OFF) return false;
  return value === '' ? undefined : value;
}

main().catch((err: unknown) => {
  process.stderr.write(`cni-agent: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
