import type { ClusterDriver } from '../drivers/types';

/** What the echo app answers (packages/meshctl/src/echo): the caller as the server's socket sees it. */
export interface EchoReply {
  pod: string;
  namespace: string;
  serviceAccount: string;
  remoteAddress: string;
  localPort: number;
}

export interface HttpOutcome {
  /** curl's exit code: 0 = an HTTP response arrived. */
  curlCode: number;
  status: number;
  reply?: EchoReply;
  error: string;
}

/** Short client timeouts: a refused/blackholed connection must fail fast so polling stays bounded. */
export const CONNECT_TIMEOUT_S = 2;
export const REQUEST_TIMEOUT_S = 4;
const STATUS_MARK = '\n@@status=';

export async function httpGet(d: ClusterDriver, ns: string, pod: string, url: string, headers: Record<string, string> = {}): Promise<HttpOutcome> {
  const h = Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
  const r = await d.exec(ns, pod, ['curl', '-sS', '--connect-timeout', String(CONNECT_TIMEOUT_S), '-m', String(REQUEST_TIMEOUT_S), ...h, '-w', `${STATUS_MARK}%{http_code}`, url], {
    timeoutMs: (REQUEST_TIMEOUT_S + 10) * 1000,
  });
  const at = r.stdout.lastIndexOf(STATUS_MARK);
  const status = at >= 0 ? Number(r.stdout.slice(at + STATUS_MARK.length).trim()) : 0;
  const body = at >= 0 ? r.stdout.slice(0, at) : r.stdout;
  let reply: EchoReply | undefined;
  try {
    reply = JSON.parse(body) as EchoReply;
  } catch {
    reply = undefined;
  }
  return { curlCode: r.code, status, ...(reply ? { reply } : {}), error: r.stderr.trim() };
}

export function httpOk(o: HttpOutcome): boolean {
  return o.curlCode === 0 && o.status === 200 && o.reply !== undefined;
}

/** One line through the echo app's raw TCP port (-q: no half-close, the reply is read before nc closes); returns what came back ("" when the connection was refused/closed). */
export async function tcpEcho(d: ClusterDriver, ns: string, pod: string, host: string, port: number, line: string): Promise<string> {
  const r = await d.exec(ns, pod, ['nc', '-q', '2', '-w', String(REQUEST_TIMEOUT_S), host, String(port)], {
    input: `${line}\n`,
    timeoutMs: (REQUEST_TIMEOUT_S + 10) * 1000,
  });
  return r.stdout;
}

export function fmt(o: HttpOutcome): string {
  return o.reply ? `HTTP ${o.status} from ${o.reply.pod} (caller ${o.reply.remoteAddress})` : `curl exit ${o.curlCode} status ${o.status}: ${o.error}`;
}
