import { CNI_ERR_DECODE, CNI_ERR_INVALID_NETWORK_CONFIG, CniPluginError } from './cni-error';

/** Directory the node agent shares with the plugin (Istio `cni_agent_run_dir` default). */
export const DEFAULT_CNI_AGENT_RUN_DIR = '/var/run/istio-cni';
/** Socket the agent serves POST /cmdadd on, inside the run dir (Istio constants.CNIEventSocketName). */
export const CNI_EVENT_SOCKET_NAME = 'pluginevent.sock';
/** Local log file inside the run dir (the agent may not be reachable to receive logs). */
export const PLUGIN_LOG_FILE_NAME = 'plugin.log';

/** The network config the runtime passes on stdin; plugin keys are Istio's (cni/pkg/plugin/plugin.go). */
export interface PluginConfig {
  readonly cniVersion: string;
  readonly name: string;
  readonly type: string;
  readonly ambientEnabled: boolean;
  /** Opaque here: the agent evaluates enablement (it holds the pod/namespace informers). */
  readonly enablementSelectors: unknown;
  readonly excludeNamespaces: readonly string[];
  readonly cniAgentRunDir: string;
  /** Namespace of the CNI agent itself; its own pods are never held back (they would deadlock). */
  readonly podNamespace: string;
  readonly pluginLogLevel: string;
  /** Unix socket of the agent; `<cni_agent_run_dir>/pluginevent.sock` unless `cni_event_address` is set. */
  readonly agentSocketPath: string;
  /** The previous plugin's result, untouched. */
  readonly prevResult: Record<string, unknown> | undefined;
}

type Json = Record<string, unknown>;

export function decodeConfig(stdin: string): Json {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdin);
  } catch (e) {
    throw new CniPluginError(CNI_ERR_DECODE, 'failed to decode network configuration from stdin', String(e));
  }
  if (!isObject(parsed)) throw new CniPluginError(CNI_ERR_DECODE, 'network configuration on stdin is not a JSON object');
  return parsed;
}

export function parsePluginConfig(raw: Json): PluginConfig {
  const runDir = optString(raw, 'cni_agent_run_dir') ?? DEFAULT_CNI_AGENT_RUN_DIR;
  const prev = raw['prevResult'];
  if (prev !== undefined && !isObject(prev)) throw invalid('prevResult must be an object');
  const excluded = raw['exclude_namespaces'] ?? [];
  if (!Array.isArray(excluded) || !excluded.every((x) => typeof x === 'string')) {
    throw invalid('exclude_namespaces must be an array of strings');
  }
  return {
    cniVersion: reqString(raw, 'cniVersion'),
    name: reqString(raw, 'name'),
    type: reqString(raw, 'type'),
    ambientEnabled: optBool(raw, 'ambient_enabled') ?? false,
    enablementSelectors: raw['enablement_selectors'],
    excludeNamespaces: excluded,
    cniAgentRunDir: runDir,
    podNamespace: optString(raw, 'pod_namespace') ?? '',
    pluginLogLevel: optString(raw, 'plugin_log_level') ?? 'info',
    agentSocketPath: optString(raw, 'cni_event_address') ?? `${runDir.replace(/\/+$/, '')}/${CNI_EVENT_SOCKET_NAME}`,
    prevResult: prev,
  };
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function invalid(msg: string): CniPluginError {
  return new CniPluginError(CNI_ERR_INVALID_NETWORK_CONFIG, `invalid network configuration: ${msg}`);
}

function reqString(raw: Json, key: string): string {
  const v = raw[key];
  if (typeof v !== 'string' || v === '') throw invalid(`"${key}" must be a non-empty string`);
  return v;
}

function optString(raw: Json, key: string): string | undefined {
  const v = raw[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw invalid(`"${key}" must be a string`);
  return v;
}

function optBool(raw: Json, key: string): boolean | undefined {
  const v = raw[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw invalid(`"${key}" must be a boolean`);
  return v;
}
