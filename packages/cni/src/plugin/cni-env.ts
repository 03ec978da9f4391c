import { CNI_ERR_INVALID_ENV, CniPluginError } from './cni-error';

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'GC' | 'STATUS';

/** The CNI_* environment of one invocation (CNI spec "Parameters"). */
export interface CniEnv {
  readonly command: CniCommand;
  readonly containerId: string;
  readonly netns: string;
  readonly ifName: string;
  readonly args: Readonly<Record<string, string>>;
  readonly path: string;
}

const COMMANDS: readonly CniCommand[] = ['ADD', 'DEL', 'CHECK', 'VERSION', 'GC', 'STATUS'];

// Which variables each command must receive (as the reference skel library enforces).
const REQUIRED: Record<CniCommand, readonly string[]> = {
  ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
  CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
  DEL: ['CNI_CONTAINERID', 'CNI_IFNAME', 'CNI_PATH'],
  GC: ['CNI_PATH'],
  STATUS: ['CNI_PATH'],
  VERSION: [],
};

const CONTAINER_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function parseCniEnv(env: Readonly<Record<string, string | undefined>>): CniEnv {
  const raw = env['CNI_COMMAND'];
  if (!raw) throw new CniPluginError(CNI_ERR_INVALID_ENV, 'required env variable CNI_COMMAND is missing');
  const command = COMMANDS.find((c) => c === raw);
  if (!command) throw new CniPluginError(CNI_ERR_INVALID_ENV, `unknown CNI_COMMAND ${JSON.stringify(raw)}`);
  const missing = REQUIRED[command].filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new CniPluginError(CNI_ERR_INVALID_ENV, `required env variables [${missing.join(',')}] missing`);
  }
  const containerId = env['CNI_CONTAINERID'] ?? '';
  if (containerId && !CONTAINER_ID_RE.test(containerId)) {
    throw new CniPluginError(CNI_ERR_INVALID_ENV, `invalid characters in CNI_CONTAINERID ${JSON.stringify(containerId)}`);
  }
  return {
    command,
    containerId,
    netns: env['CNI_NETNS'] ?? '',
    ifName: env['CNI_IFNAME'] ?? '',
    args: parseCniArgs(env['CNI_ARGS'] ?? ''),
    path: env['CNI_PATH'] ?? '',
  };
}

/**
 * CNI_ARGS: `K=V` pairs separated by `;` (kubelet/containerd pass K8S_POD_NAME, K8S_POD_NAMESPACE,
 * K8S_POD_UID, K8S_POD_INFRA_CONTAINER_ID, IgnoreUnknown). The value may itself contain `=`.
 */
export function parseCniArgs(raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of raw.split(';')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CniPluginError(CNI_ERR_INVALID_ENV, `invalid CNI_ARGS pair ${JSON.stringify(pair)}: expected KEY=VALUE`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}
