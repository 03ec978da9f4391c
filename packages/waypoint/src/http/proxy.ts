// Forwarding with Envoy's router semantics: weighted backend chosen once per request, an endpoint per try
// (round robin), retries on retriable outcomes within the attempt budget, per-try and whole-request timeouts
// (504 "upstream request timeout"), 503 "no healthy upstream" when the backend has no endpoints.
import type { Http2ServerResponse } from 'node:http2';
import type { Readable } from 'node:stream';
import type { waypoint } from '@mesh/api';
import { takeWholeBody, type Http1Response } from '../http1/index';
import { pickWeighted } from '../route/index';
import { affinityFor, outcomeOfStatus, UpstreamTlsError, type Affinity, type Endpoint, type HboneAgents, type UpstreamCluster, type UpstreamClusters, type UpstreamState } from '../upstream/index';
import { localReply, type Exchange } from './exchange';
import { sendOnce, type TryResult, type UpstreamResponse } from './forward';
import { sendOnceH2 } from './forward-h2';
import { randomHex } from './ids';
import { applyHeaderOps, forwardableHeaders, type HeaderMap } from './header-ops';
import { isRetriable, retryBackoffMs, type TryOutcome } from './retry';

export interface ProxyDeps {
  readonly upstream: UpstreamState;
  readonly agents: HboneAgents;
  readonly rand?: () => number;
  /** DestinationRule-driven cluster state (LB, pool limits, outlier detection); plain round robin without it. */
  readonly clusters?: UpstreamClusters;
  /** Whether hostname:port is declared HTTP2/GRPC (forwarded as h2c); HTTP/1.1 otherwise. */
  /** Whether this backend (subset-level DestinationRule policy included) is reached over HTTP/2. */
  readonly isHttp2Port?: (hostname: string, port: number, subset?: string) => boolean;
}

/** Envoy's local reply when a circuit breaker refuses a request (response flag UO). */
export const OVERFLOW_BODY = 'upstream connect error or disconnect/reset before headers. reset reason: overflow';

export interface ForwardPlan {
  readonly route: waypoint.Route;
  readonly method: string;
  readonly path: string;
  readonly headers: HeaderMap;
  /** The request's destination port (backend port 0 means this one). */
  readonly port: number;
  /** Set for workload-addressed tunnels: forward to this endpoint, no backend choice. */
  readonly fixedEndpoint?: Endpoint;
  readonly body: Buffer | Readable | undefined;
  /** Original client IP (consistent hash on source IP). */
  readonly sourceIp?: string | undefined;
}

function outcomeOf(r: TryResult, grpcStatus?: number): TryOutcome {
  if (r.kind === 'response') return { kind: 'response', status: r.res.statusCode ?? 0, ...(grpcStatus === undefined ? {} : { grpcStatus }) };
  if (r.kind === 'connect-failure') return { kind: 'connect-failure' };
  if (r.kind === 'timeout') return { kind: 'timeout' };
  return { kind: 'reset', refused: r.kind === 'reset' && r.refused === true };
}

function grpcStatusOf(res: UpstreamResponse): number | undefined {
  const v = res.headers['grpc-status'];
  return typeof v === 'string' ? Number(v) : undefined;
}

function pickBackend(plan: ForwardPlan, rand: () => number): waypoint.WeightedBackend | undefined {
  if (plan.route.backends.length === 0) return undefined;
  return pickWeighted(plan.route.backends, rand);
}

function clusterFor(deps: ProxyDeps, plan: ForwardPlan, backend: waypoint.WeightedBackend | undefined): UpstreamCluster | undefined {
  if (plan.fixedEndpoint !== undefined || backend === undefined || deps.clusters === undefined) return undefined;
  return deps.clusters.get(backend.hostname, backend.subset, backend.port || plan.port);
}

function affinityOf(plan: ForwardPlan, cluster: UpstreamCluster | undefined): Affinity | undefined {
  const lb = cluster?.policy?.loadBalancer;
  if (lb?.consistentHash === undefined) return undefined;
  return affinityFor(lb, { headers: plan.headers, path: plan.path, sourceIp: plan.sourceIp }, () => randomHex(8));
}

function resolveEndpoint(deps: ProxyDeps, plan: ForwardPlan, backend: waypoint.WeightedBackend | undefined, cluster: UpstreamCluster | undefined, hashKey: string | undefined): Endpoint | undefined {
  if (plan.fixedEndpoint !== undefined) return plan.fixedEndpoint;
  if (backend === undefined) return undefined;
  const labels = backend.subset === '' ? undefined : backend.subsetLabels;
  const port = backend.port || plan.port;
  if (cluster === undefined) return deps.upstream.pickEndpoint(backend.hostname, port, labels);
  const eps = deps.upstream.endpoints(backend.hostname, port, labels);
  return cluster.pick(eps, { rand: deps.rand ?? Math.random, hashKey });
}

/** Runs `fn` once the exchange is over (downstream response finished or client gone). */
function whenDone(ex: Exchange, fn: () => void): void {
  if (ex.signal.aborted) fn();
  else ex.signal.addEventListener('abort', fn, { once: true });
}

/** Connection pool admission; false when the request was answered (503 UO) or cancelled while pending. */
async function admit(ex: Exchange, cluster: UpstreamCluster | undefined): Promise<boolean> {
  if (cluster === undefined) return true;
  const a = await cluster.limiter.admit(ex.signal);
  if (a === 'overflow') {
    if (!ex.signal.aborted) localReply(ex, 503, OVERFLOW_BODY, 'UO', { 'x-envoy-overloaded': 'true' });
    return false;
  }
  whenDone(ex, () => a.release());
  return true;
}

/** Outlier detection input and the endpoint's in-flight count for LEAST_REQUEST. */
function track(cluster: UpstreamCluster | undefined, ep: Endpoint, r: TryResult, end: (() => void) | undefined): void {
  if (cluster === undefined || end === undefined) return;
  if (r.kind === 'response') {
    r.res.body.once('close', end);
    cluster.report(ep, outcomeOfStatus(r.res.statusCode ?? 0));
    return;
  }
  end();
  if (r.kind !== 'cancelled') cluster.report(ep, 'gateway-error');
}

/** Runs the tries; answers the exchange (streamed upstream response or a local reply). */
export async function forward(deps: ProxyDeps, ex: Exchange, plan: ForwardPlan): Promise<void> {
  const rand = deps.rand ?? Math.random;
  const backend = pickBackend(plan, rand);
  const retry = plan.route.retries;
  const maxTries = 1 + (retry?.attempts ?? 0);
  const perTryMs = retry?.perTryTimeoutMs ?? 0;
  const headers: HeaderMap = { ...plan.headers };
  applyHeaderOps(headers, backend?.requestHeaders);
  const cluster = clusterFor(deps, plan, backend);
  if (!(await admit(ex, cluster))) return;
  const affinity = affinityOf(plan, cluster);
  const h2 = backend !== undefined && deps.isHttp2Port?.(backend.hostname, backend.port || plan.port, backend.subset) === true;
  let releaseRetry: (() => void) | undefined;
  try {
    for (let attempt = 0; attempt < maxTries; attempt++) {
      const ep = resolveEndpoint(deps, plan, backend, cluster, affinity?.hashKey);
      if (ep === undefined) return localReply(ex, 503, 'no healthy upstream', 'UH');
      const r = await tryOnce(deps, ex, plan, { ep, cluster, headers, perTryMs, h2 });
      if (r.kind === 'cancelled') return;
      const grpc = r.kind === 'response' ? grpcStatusOf(r.res) : undefined;
      const last = attempt === maxTries - 1 || !Buffer.isBuffer(plan.body ?? Buffer.alloc(0));
      if (!last && isRetriable(retry, outcomeOf(r, grpc))) {
        releaseRetry?.();
        // Envoy's max_retries circuit breaker: without a retry slot the current outcome is the answer.
        releaseRetry = cluster === undefined ? () => undefined : cluster.startRetry();
        if (releaseRetry !== undefined) {
          if (r.kind === 'response') r.res.body.resume();
          await sleep(retryBackoffMs(attempt, rand));
          continue;
        }
      }
      return answer(ex, r, plan.route, backend, affinity?.setCookie);
    }
  } finally {
    releaseRetry?.();
  }
}

interface TryPlan {
  ep: Endpoint;
  cluster: UpstreamCluster | undefined;
  headers: HeaderMap;
  perTryMs: number;
  /** Forward as h2c (HTTP2/GRPC port) instead of HTTP/1.1. */
  h2: boolean;
}

function sendTry(deps: ProxyDeps, ex: Exchange, plan: ForwardPlan, t: TryPlan): Promise<TryResult> {
  const { ep, cluster } = t;
  // Streamed request bodies only (a buffered body was counted as it was read).
  const messages = ex.grpcMessages?.request;
  const onBodyChunk = messages === undefined
    ? (c: Buffer): void => {
      ex.record.requestBytes += c.length;
    }
    : (c: Buffer): void => {
      ex.record.requestBytes += c.length;
      messages.push(c);
    };
  if (t.h2) {
    const maxStreams = cluster?.maxRequestsPerConnection ?? 0;
    return sendOnceH2({
      session: () => deps.agents.h2.acquire(ep, maxStreams, cluster), method: plan.method, path: plan.path, headers: t.headers,
      body: plan.body, timeoutMs: t.perTryMs, signal: ex.signal, onBodyChunk,
    });
  }
  return sendOnce({
    maxRequestsPerConnection: cluster?.maxRequestsPerConnection ?? 0,
    pool: deps.agents.poolFor(ep, cluster), method: plan.method, path: plan.path,
    headers: t.headers, body: plan.body, timeoutMs: t.perTryMs, signal: ex.signal, onBodyChunk,
  });
}

async function tryOnce(deps: ProxyDeps, ex: Exchange, plan: ForwardPlan, t: TryPlan): Promise<TryResult> {
  setDestination(ex, t.ep);
  const end = t.cluster?.started(t.ep);
  const r = await sendTry(deps, ex, plan, t);
  track(t.cluster, t.ep, r, end);
  return r;
}

function setDestination(ex: Exchange, ep: Endpoint): void {
  const w = ep.workload;
  Object.assign(ex.record.destination, {
    workload: w.workloadName, namespace: w.namespace, principal: w.identity,
    canonicalService: w.canonicalName || undefined, canonicalRevision: w.canonicalRevision || undefined, cluster: w.clusterId || undefined,
  });
}

function answer(ex: Exchange, r: TryResult, route: waypoint.Route, backend: waypoint.WeightedBackend | undefined, setCookie?: string): void {
  if (r.kind === 'timeout') return localReply(ex, 504, 'upstream request timeout', 'UT');
  if (r.kind === 'connect-failure') {
    // As Envoy: a failed TLS origination names the transport failure after the reset reason.
    const tlsReason = r.error instanceof UpstreamTlsError ? `, transport failure reason: ${r.error.transportFailureReason}` : '';
    return localReply(ex, 503, `upstream connect error or disconnect/reset before headers. reset reason: connection failure${tlsReason}`, 'UF');
  }
  if (r.kind !== 'response') {
    return localReply(ex, 503, 'upstream connect error or disconnect/reset before headers. reset reason: connection termination', 'UC');
  }
  const up = r.res;
  const headers = forwardableHeaders(up.headers);
  applyHeaderOps(headers, route.responseHeaders);
  applyHeaderOps(headers, backend?.responseHeaders);
  if (setCookie !== undefined) appendSetCookie(headers, setCookie);
  ex.record.responseCode = up.statusCode;
  const grpc = grpcStatusOf(up);
  if (grpc !== undefined) ex.record.grpcStatus = grpc;
  if (up.headersOnly === true && respondHeadersOnly(ex, up.statusCode, headers)) return;
  const res = ex.res as Http1Response;
  res.writeHead(up.statusCode, headers);
  const body = up.body;
  // A response with trailers streams (chunked to an HTTP/1.1 downstream): a whole-body end() would give it a
  // content-length and leave no place for the trailers.
  const whole = hasTrailers(up) ? undefined : takeWholeBody(body);
  const messages = ex.grpcMessages?.response;
  if (whole !== undefined) {
    ex.record.responseBytes += whole.length;
    messages?.push(whole);
    res.end(whole);
    return;
  }
  body.on('data', messages === undefined
    ? (chunk: Buffer): void => {
      ex.record.responseBytes += chunk.length;
    }
    : (chunk: Buffer): void => {
      ex.record.responseBytes += chunk.length;
      messages.push(chunk);
    });
  body.on('end', () => forwardTrailers(ex, res, up));
  body.on('error', () => res.destroy());
  // Client gone mid-response: reset the upstream request too (Envoy resets the upstream stream), or a
  // cancelled gRPC stream would keep its server producing into a dead pipe.
  res.once('close', () => {
    if (!body.readableEnded) body.destroy();
  });
  body.pipe(res as unknown as NodeJS.WritableStream);
}

function hasTrailers(up: UpstreamResponse): boolean {
  for (const _ in up.trailers()) return true;
  return false;
}

function forwardTrailers(ex: Exchange, res: Http1Response, up: UpstreamResponse): void {
  const trailers = forwardableHeaders(up.trailers());
  if (Object.keys(trailers).length === 0) return;
  const gs = trailers['grpc-status'];
  if (typeof gs === 'string') ex.record.grpcStatus = Number(gs);
  try {
    res.addTrailers(trailers as Record<string, string>);
  } catch {
    // An HTTP/1.1 response with a content-length cannot carry trailers; Envoy drops them too.
  }
}

/**
 * A gRPC trailers-only answer (HEADERS with END_STREAM, grpc-status among them) must reach an HTTP/2 client
 * the same way: gRPC clients read grpc-status from a HEADERS frame only when it ends the stream.
 */
function respondHeadersOnly(ex: Exchange, status: number, headers: HeaderMap): boolean {
  const stream = (ex.res as Partial<Http2ServerResponse>).stream;
  if (stream === undefined || stream.headersSent || stream.destroyed) return false;
  stream.respond({ ...headers, ':status': status }, { endStream: true });
  return true;
}

function appendSetCookie(headers: HeaderMap, cookie: string): void {
  const cur = headers['set-cookie'];
  headers['set-cookie'] = cur === undefined ? [cookie] : [...(Array.isArray(cur) ? cur : [String(cur)]), cookie];
}

function sleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((r) => setTimeout(r, ms));
}
