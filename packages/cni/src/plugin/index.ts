export { AGENT_REQUEST_TIMEOUT_MS, CNI_ADD_EVENT_PATH, type CniPluginAddEvent, type CniPluginIpConfig } from './agent-client';
export { CNI_EVENT_SOCKET_NAME, DEFAULT_CNI_AGENT_RUN_DIR, parsePluginConfig, type PluginConfig } from './plugin-config';
export { parseCniArgs, parseCniEnv, type CniCommand, type CniEnv } from './cni-env';
export { runPlugin, SUPPORTED_CNI_VERSIONS, type PluginIo, type PluginOutcome } from './run-plugin';
export * from './cni-error';
