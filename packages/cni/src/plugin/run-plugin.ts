import { postAddEvent, type AgentResponse, type CniPluginAddEvent, type CniPluginIpConfig } from './agent-client';
import { parseCniEnv, type CniEnv } from './cni-env';
import {
  CNI_ERR_INCOMPATIBLE_VERSION,
  CNI_ERR_INTERNAL,
  CNI_ERR_TRY_AGAIN_LATER,
  CniPluginError,
  cniErrorJson,
} from './cni-error';
import { createFileLogger, NULL_LOGGER, type PluginLogger } from './file-logger';
import { decodeConfig, parsePluginConfig, PLUGIN_LOG_FILE_NAME, type PluginConfig } from './plugin-config';

/** Spec versions whose results we can pass through unchanged (chained plugin; no IPAM of our own). */
export const SUPPORTED_CNI_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
export const DEFAULT_CNI_VERSION = '1.0.0';
/** GC and STATUS exist from spec 1.1.0 on. */
const V1_1_COMMANDS = new Set(['GC', 'STATUS']);
/** Istio skips its own agent's pods (prefix of the DaemonSet's pod names). */
const CNI_AGENT_POD_PREFIX = 'istio-cni-node-';

export interface PluginIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdin: string;
  /** Injected for tests; defaults to the real unix-socket client. */
  readonly postAdd?: (socketPath: string, event: CniPluginAddEvent) => Promise<AgentResponse>;
}

export interface PluginOutcome {
  readonly stdout: string;
  readonly exitCode: number;
}

/** One CNI invocation, from env + stdin to what goes on stdout and the exit code. */
export async function runPlugin(io: PluginIo): Promise<PluginOutcome> {
  let cniVersion = DEFAULT_CNI_VERSION;
  let logger: PluginLogger = NULL_LOGGER;
  try {
    const env = parseCniEnv(io.env);
    if (env.command === 'VERSION') return ok(versionReply(io.stdin));
    const config = parsePluginConfig(decodeConfig(io.stdin));
    cniVersion = config.cniVersion;
    logger = createFileLogger(`${config.cniAgentRunDir}/${PLUGIN_LOG_FILE_NAME}`, config.pluginLogLevel);
    checkVersion(config.cniVersion, env.command);
    const result = await dispatch(env, config, logger, io.postAdd ?? postAddEvent);
    return ok(result);
  } catch (e) {
    const err = e instanceof CniPluginError ? e : new CniPluginError(CNI_ERR_INTERNAL, 'istio-cni internal error', String(e));
    logger.log('error', err.message, { code: err.cniCode, details: err.details });
    return { stdout: `${JSON.stringify(cniErrorJson(err, cniVersion))}\n`, exitCode: 1 };
  }
}

function ok(result: unknown): PluginOutcome {
  return { stdout: result === undefined ? '' : `${JSON.stringify(result)}\n`, exitCode: 0 };
}

function checkVersion(version: string, command: string): void {
  if (!(SUPPORTED_CNI_VERSIONS as readonly string[]).includes(version)) {
    throw new CniPluginError(
      CNI_ERR_INCOMPATIBLE_VERSION,
      `incompatible CNI versions: config is ${JSON.stringify(version)}, plugin supports [${SUPPORTED_CNI_VERSIONS.join(', ')}]`,
    );
  }
  if (V1_1_COMMANDS.has(command) && compareVersions(version, '1.1.0') < 0) {
    throw new CniPluginError(CNI_ERR_INCOMPATIBLE_VERSION, `command ${command} requires cniVersion >= 1.1.0, config is ${version}`);
  }
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** VERSION answers even when stdin is empty or unparseable: the runtime is only probing. */
function versionReply(stdin: string): { cniVersion: string; supportedVersions: readonly string[] } {
  let requested: unknown;
  try {
    requested = (JSON.parse(stdin) as { cniVersion?: unknown }).cniVersion;
  } catch {
    requested = undefined;
  }
  const cniVersion =
    typeof requested === 'string' && (SUPPORTED_CNI_VERSIONS as readonly string[]).includes(requested) ? requested : DEFAULT_CNI_VERSION;
  return { cniVersion, supportedVersions: SUPPORTED_CNI_VERSIONS };
}

type PostAdd = (socketPath: string, event: CniPluginAddEvent) => Promise<AgentResponse>;

async function dispatch(env: CniEnv, config: PluginConfig, logger: PluginLogger, postAdd: PostAdd): Promise<unknown> {
  switch (env.command) {
    case 'ADD':
      await cmdAdd(env, config, logger, postAdd);
      return passThroughResult(config);
    // Like Istio: removal is driven by the agent's pod informer, not by DEL; CHECK has nothing to verify.
    case 'DEL':
    case 'CHECK':
    case 'GC':
    case 'STATUS':
    default:
      return undefined;
  }
}

/** Prints prevResult unchanged apart from cniVersion (what a chained plugin that adds nothing returns). */
function passThroughResult(config: PluginConfig): Record<string, unknown> {
  return { ...(config.prevResult ?? {}), cniVersion: config.cniVersion };
}

async function cmdAdd(env: CniEnv, config: PluginConfig, logger: PluginLogger, postAdd: PostAdd): Promise<void> {
  const podName = env.args['K8S_POD_NAME'] ?? '';
  const podNamespace = env.args['K8S_POD_NAMESPACE'] ?? '';
  const pod = { pod: `${podNamespace}/${podName}`, containerId: env.containerId };
  if (!config.ambientEnabled) return;
  if (podName === '' || podNamespace === '') return logger.log('debug', 'not a kubernetes pod, skipping', pod);
  if (config.excludeNamespaces.includes(podNamespace)) return logger.log('info', 'pod namespace excluded', pod);
  if (podName.startsWith(CNI_AGENT_POD_PREFIX) && podNamespace === config.podNamespace) {
    return logger.log('info', 'pod is the istio-cni agent itself, skipping', pod);
  }
  const event: CniPluginAddEvent = {
    Netns: env.netns,
    PodName: podName,
    PodNamespace: podNamespace,
    PodUID: env.args['K8S_POD_UID'] ?? '',
    IPs: prevResultIps(config.prevResult),
  };
  await notifyAgent(config.agentSocketPath, event, postAdd);
  logger.log('info', 'node agent accepted pod', pod);
}

// "A pod must never run unprotected": any failure to get a 200 from the agent fails ADD with
// try-again-later, so the runtime retries the sandbox instead of starting an unredirected pod.
async function notifyAgent(socketPath: string, event: CniPluginAddEvent, postAdd: PostAdd): Promise<void> {
  let res: AgentResponse;
  try {
    res = await postAdd(socketPath, event);
  } catch (e) {
    throw new CniPluginError(
      CNI_ERR_TRY_AGAIN_LATER,
      `istio-cni cmdAdd failed to contact node Istio CNI agent at ${socketPath}; is the istio-cni-node pod running on this node?`,
      e instanceof Error ? e.message : String(e),
    );
  }
  if (res.status !== 200) {
    throw new CniPluginError(
      CNI_ERR_TRY_AGAIN_LATER,
      `istio-cni cmdAdd: node Istio CNI agent failed to set up redirection (status ${res.status})`,
      res.body.slice(0, 1024),
    );
  }
}

function prevResultIps(prev: Record<string, unknown> | undefined): CniPluginIpConfig[] {
  const ips = prev?.['ips'];
  if (!Array.isArray(ips)) return [];
  const out: CniPluginIpConfig[] = [];
  for (const ip of ips as unknown[]) {
    if (typeof ip !== 'object' || ip === null) continue;
    const { address, gateway, interface: iface } = ip as { address?: unknown; gateway?: unknown; interface?: unknown };
    if (typeof address !== 'string') continue;
    out.push({
      Address: address,
      ...(typeof gateway === 'string' ? { Gateway: gateway } : {}),
      ...(typeof iface === 'number' ? { Interface: iface } : {}),
    });
  }
  return out;
}
