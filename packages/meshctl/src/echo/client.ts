import http from 'node:http';
import http2 from 'node:http2';
import type { EchoClientConfig } from './args';
import { createGrpcCaller } from './grpc-client';

export interface ClientResult {
  i: number;
  status?: number;
  /** gRPC status code, for --grpc calls. */
  grpcStatus?: number;
  pod?: string;
  version?: string;
  protocol?: string;
  /** gRPC only: the caller address the server saw. */
  peer?: string;
  ms: number;
  error?: string;
}

export interface ClientSummary {
  summary: true;
  total: number;
  ok: number;
  errors: number;
  byVersion: Record<string, number>;
  byPod: Record<string, number>;
  byStatus: Record<string, number>;
}

interface Parsed {
  status: number;
  body: string;
}

function parseBody(body: string): { pod?: string; version?: string; protocol?: string } {
  try {
    const j = JSON.parse(body) as { pod?: unknown; version?: unknown; protocol?: unknown };
    return {
      pod: typeof j.pod === 'string' ? j.pod : undefined,
      version: typeof j.version === 'string' ? j.version : undefined,
      protocol: typeof j.protocol === 'string' ? j.protocol : undefined,
    };
  } catch {
    return {};
  }
}

/** A new connection per request by default: ztunnel balances per connection, so canary splits need this. */
function http1Request(cfg: EchoClientConfig, agent: http.Agent | false): Promise<Parsed> {
  return new Promise((resolve, reject) => {
    const req = http.get(cfg.url, { agent, headers: cfg.headers, timeout: cfg.timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${cfg.timeoutMs} ms`)));
    req.on('error', reject);
  });
}

function http2Request(cfg: EchoClientConfig, session: http2.ClientHttp2Session): Promise<Parsed> {
  return new Promise((resolve, reject) => {
    const u = new URL(cfg.url);
    const stream = session.request({ ':path': `${u.pathname}${u.search}`, ...cfg.headers });
    stream.setTimeout(cfg.timeoutMs, () => stream.close(http2.constants.NGHTTP2_CANCEL));
    let status = 0;
    const chunks: Buffer[] = [];
    stream.on('response', (h) => (status = Number(h[':status'] ?? 0)));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve({ status, body: Buffer.concat(chunks).toString('utf8') }));
    stream.on('close', () => {
      if (status === 0) reject(new Error(`stream closed (code ${stream.rstCode ?? 0})`));
    });
    stream.on('error', reject);
  });
}

function connectH2(url: string): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const s = http2.connect(url);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** What one exchange produced; `error` marks a failed call (transport error, or a non-OK gRPC status). */
export type CallOutcome = Omit<ClientResult, 'i' | 'ms'>;

/** One per worker; owns the worker's connection (if any) between calls. */
export interface Caller {
  call(): Promise<CallOutcome>;
  close(): void;
}

function createHttpCaller(cfg: EchoClientConfig, agent: http.Agent | false): Caller {
  let session: http2.ClientHttp2Session | undefined;
  return {
    call: async () => {
      if (cfg.http2 && (!session || session.destroyed || !cfg.keepAlive)) {
        session?.close();
        session = await connectH2(cfg.url);
      }
      const r = session ? await http2Request(cfg, session) : await http1Request(cfg, agent);
      return { status: r.status, ...parseBody(r.body) };
    },
    close: () => session?.close(),
  };
}

/** Sends `count` GETs (or gRPC Echo calls) with `concurrency` in flight, reporting each and a final tally. */
export async function runClient(cfg: EchoClientConfig, emit: (line: ClientResult | ClientSummary) => void): Promise<ClientSummary> {
  const summary: ClientSummary = { summary: true, total: 0, ok: 0, errors: 0, byVersion: {}, byPod: {}, byStatus: {} };
  const agent = cfg.keepAlive ? new http.Agent({ keepAlive: true }) : false;
  const grpcTarget = cfg.grpc;
  let next = 0;
  const worker = async () => {
    const caller = grpcTarget !== undefined ? createGrpcCaller({ ...cfg, grpc: grpcTarget }) : createHttpCaller(cfg, agent);
    try {
      while (next < cfg.count) {
        const i = next++;
        const start = performance.now();
        let outcome: CallOutcome;
        try {
          outcome = await caller.call();
        } catch (e) {
          outcome = { error: (e as Error).message };
        }
        const line: ClientResult = { i, ...outcome, ms: Math.round(performance.now() - start) };
        tally(summary, line);
        emit(line);
      }
    } finally {
      caller.close();
    }
  };
  await Promise.all(Array.from({ length: Math.min(cfg.concurrency, cfg.count) }, worker));
  if (agent) agent.destroy();
  emit(summary);
  return summary;
}

function tally(s: ClientSummary, r: ClientResult): void {
  s.total++;
  // gRPC statuses are counted even when non-OK, so retry/abort tests can see the distribution.
  if (r.grpcStatus !== undefined) s.byStatus[`grpc-${r.grpcStatus}`] = (s.byStatus[`grpc-${r.grpcStatus}`] ?? 0) + 1;
  if (r.error !== undefined) {
    s.errors++;
    return;
  }
  if ((r.status !== undefined && r.status < 400) || r.grpcStatus === 0) s.ok++;
  const inc = (m: Record<string, number>, k: string | undefined) => {
    if (k !== undefined) m[k] = (m[k] ?? 0) + 1;
  };
  if (r.status !== undefined) inc(s.byStatus, String(r.status));
  inc(s.byVersion, r.version);
  inc(s.byPod, r.pod);
}
