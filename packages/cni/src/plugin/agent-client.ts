import { request } from 'node:http';

/** Istio's plugin gives the agent this long to redirect the pod (enter netns, rules, ZDS ack). */
export const AGENT_REQUEST_TIMEOUT_MS = 5_000;
/** Path the agent serves the ADD event on (Istio constants.CNIAddEventPath). */
export const CNI_ADD_EVENT_PATH = '/cmdadd';
const MAX_AGENT_BODY_BYTES = 64 * 1024;

/** One pod IP from the previous plugin's result (Istio nodeagent.IPConfig, JSON field names kept). */
export interface CniPluginIpConfig {
  readonly Interface?: number;
  /** CIDR form, e.g. `10.244.1.5/24`. */
  readonly Address: string;
  readonly Gateway?: string;
}

/** Body of POST /cmdadd (Istio nodeagent.CNIPluginAddEvent plus the pod UID). */
export interface CniPluginAddEvent {
  readonly Netns: string;
  readonly PodName: string;
  readonly PodNamespace: string;
  readonly PodUID: string;
  readonly IPs: readonly CniPluginIpConfig[];
}

/** Agent answer: 200 with `{enrolled}` (false = pod not ambient, nothing done); anything else fails ADD. */
export interface AgentResponse {
  readonly status: number;
  readonly body: string;
}

/** POSTs the event over the agent's unix socket; rejects on connect failure or timeout. */
export function postAddEvent(socketPath: string, event: CniPluginAddEvent, timeoutMs = AGENT_REQUEST_TIMEOUT_MS): Promise<AgentResponse> {
  const payload = JSON.stringify(event);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath,
        path: CNI_ADD_EVENT_PATH,
        method: 'POST',
        agent: false,
        headers: { host: 'unix', 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (b: Buffer) => {
          size += b.length;
          if (size <= MAX_AGENT_BODY_BYTES) chunks.push(b);
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end(payload);
  });
}
