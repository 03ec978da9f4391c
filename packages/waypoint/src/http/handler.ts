// The per-request pipeline (Envoy's HTTP filter chain in a waypoint): path normalisation, L7 authorization
// (403 "RBAC: access denied"), route selection (404 when routes exist and none matches), direct response /
// redirect, fault injection, header ops and rewrites, then forwarding with retries and timeouts.
import type { Http2Stream } from 'node:http2';
import type { Readable } from 'node:stream';
import type { waypoint } from '@mesh/api';
import type { Logger } from '@mesh/core';
import type { JwtRule } from '../config/index';
import { authenticateJwt, KeySets } from '../jwt/index';
import { authorizeHttp, normalizePathBase, type CompiledPolicies } from '../policy/index';
import { addCorsResponseHeaders, evaluateCors, redirectLocation, rewriteAuthority, rewriteTarget, selectRoute } from '../route/index';
import { grpcMessageCounters, isGrpcContentType, type RequestMetrics, type RequestRecord } from '../metrics/index';
import { Http1Request } from '../http1/index';
import type { TunnelContext } from './context';
import { localReply, type DownstreamRequest, type DownstreamResponse, type Exchange } from './exchange';
import { DoneSignal } from './done-signal';
import { decideFault } from './fault';
import { applyHeaderOps, forwardableHeaders, type HeaderMap } from './header-ops';
import { Mirrors, sampledMirrors, teeBody } from './mirror';
import { newTraceparent, randomHex } from './ids';
import { forward, type ProxyDeps } from './proxy';
import { identityFacts, sourceFacts } from './peers';

/** Bodies buffered so a retry can replay them; Envoy's default per-request buffer limit is 1 MiB as well. */
export const RETRY_BODY_LIMIT_BYTES = 1024 * 1024;

export interface HandlerDeps extends ProxyDeps {
  readonly metrics: RequestMetrics;
  readonly logger: Logger;
  /** JWKS resolution for RequestAuthentication (a fresh cache per handler when absent). */
  readonly jwtKeys?: KeySets;
  /** Request mirroring (a bounded instance per handler when absent). */
  readonly mirrors?: Mirrors;
}

/** What RequestAuthentication established for a request (absent fields = no valid token). */
interface RequestAuth {
  requestPrincipal?: string;
  claims?: Readonly<Record<string, unknown>>;
}

export type RequestHandler = (req: DownstreamRequest, res: DownstreamResponse, ctx: TunnelContext) => void;

interface Selected {
  route: waypoint.Route;
  /** -1 for a route without matches. */
  matchIndex: number;
}

function authorityOf(req: DownstreamRequest, ctx: TunnelContext): string {
  const h = req.headers;
  const a = h[':authority'] ?? h.host;
  return typeof a === 'string' && a !== '' ? a : ctx.target.authority;
}

function newExchange(req: DownstreamRequest, res: DownstreamResponse, ctx: TunnelContext, deps: HandlerDeps): Exchange {
  const ctl = new DoneSignal();
  const contentType = req.headers['content-type'];
  const ex: Exchange = {
    req, res, ctx, startMs: performance.now(), signal: ctl,
    record: {
      source: sourceFacts(ctx, deps.upstream), destination: {},
      protocol: String(contentType ?? '').startsWith('application/grpc') ? 'grpc' : 'http',
      responseCode: 0, responseFlags: '-', requestBytes: 0, responseBytes: 0,
    },
    grpcMessages: isGrpcContentType(contentType) ? grpcMessageCounters() : undefined,
  };
  const t = ctx.target;
  if (t.kind === 'service') {
    const s = t.entry.routes.service;
    Object.assign(ex.record.destination, { service: s.hostname, serviceName: s.name || undefined, serviceNamespace: s.namespace || undefined });
  } else {
    Object.assign(ex.record.destination, identityFacts(t.workload));
  }
  let recorded = false;
  const done = (): void => {
    if (recorded) return;
    recorded = true;
    ctl.abort();
    // Node's HTTP/2 compat response reports 'finish' and writableFinished whenever its stream closes, also
    // after the client reset it; the stream's aborted flag (a reset before our END_STREAM) is the DC signal there.
    const completed = res.writableFinished && (res as { stream?: Http2Stream }).stream?.aborted !== true;
    if (!completed && ex.record.responseFlags === '-') ex.record.responseFlags = 'DC';
    const rec = ex.record as RequestRecord;
    rec.durationMs = performance.now() - ex.startMs;
    const messages = ex.grpcMessages;
    if (messages !== undefined) {
      rec.requestMessages = messages.request.count;
      rec.responseMessages = messages.response.count;
    }
    deps.metrics.record(rec);
  };
  res.once('finish', done);
  res.once('close', done);
  return ex;
}

function selectFor(ctx: TunnelContext, req: DownstreamRequest, url: string, authority: string): Selected | undefined | 'workload' {
  const t = ctx.target;
  if (t.kind === 'workload') return 'workload';
  const sel = selectRoute(t.entry.routes, { method: req.method ?? 'GET', path: url, authority, headers: req.headers, port: t.port });
  if (sel === undefined) return undefined;
  return { route: sel.route, matchIndex: sel.matchIndex };
}

function policiesOf(ctx: TunnelContext): CompiledPolicies {
  return ctx.target.kind === 'service' ? ctx.target.entry.policies : ctx.target.policies;
}

function jwtRulesOf(ctx: TunnelContext): readonly JwtRule[] {
  return ctx.target.kind === 'service' ? ctx.target.entry.jwtRules : ctx.target.jwtRules;
}

/** jwt_authn: 401 for a bad token (Envoy's body and WWW-Authenticate), else the auth facts; edits headers. */
async function authenticate(deps: HandlerDeps, keys: KeySets, ex: Exchange, authority: string): Promise<RequestAuth | 'rejected'> {
  const req = ex.req;
  const r = await authenticateJwt(keys, jwtRulesOf(ex.ctx), { headers: req.headers, url: req.url ?? '/' });
  if (r.kind === 'missing') return {};
  if (r.kind === 'failed') {
    deps.logger.debug({ code: r.error.code, cause: r.error.cause instanceof Error ? r.error.cause.message : undefined }, 'JWT rejected');
    // Envoy's jwt_authn answers 403 for a disallowed audience and 401 (with WWW-Authenticate) otherwise.
    if (r.error.reason === 'audience') {
      localReply(ex, 403, r.error.message, '-');
      return 'rejected';
    }
    const realm = `http://${authority}${(req.url ?? '/').split('?')[0] ?? '/'}`;
    localReply(ex, 401, r.error.message, '-', { 'www-authenticate': `Bearer realm="${realm}", error="invalid_token"` });
    return 'rejected';
  }
  const headers = req.headers as Record<string, string | string[] | undefined>;
  for (const h of r.removeHeaders) delete headers[h];
  Object.assign(headers, r.setHeaders);
  return { requestPrincipal: r.principal, claims: r.claims };
}

export function createRequestHandler(base: HandlerDeps): RequestHandler {
  const deps: HandlerDeps = { ...base, jwtKeys: base.jwtKeys ?? new KeySets(), mirrors: base.mirrors ?? new Mirrors(base) };
  return (req, res, ctx) => {
    const ex = newExchange(req, res, ctx, deps);
    handle(deps, ex).catch((err: unknown) => {
      deps.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'request failed');
      localReply(ex, 500, 'internal error', 'UPE');
    });
  };
}

async function handle(deps: HandlerDeps, ex: Exchange): Promise<void> {
  const { req, ctx } = ex;
  const target = req.url ?? '/';
  // Envoy normalises the path once (Istio's BASE) and then authorizes, routes and forwards the normalised
  // form, so a route and a policy can never see two different paths (`/public/../admin` is `/admin` to both,
  // and upstream).
  const url = normalizedTarget(target);
  if (url === undefined) return localReply(ex, 400, 'Bad Request', 'DPE');
  const authority = authorityOf(req, ctx);
  const auth = deps.jwtKeys === undefined || jwtRulesOf(ctx).length === 0 ? {} : await authenticate(deps, deps.jwtKeys, ex, authority);
  if (auth === 'rejected') return;
  const decision = authorizeHttp(policiesOf(ctx), {
    ...auth,
    method: req.method ?? 'GET', path: url, authority, headers: req.headers, port: ctx.target.port,
    ...(ctx.peerIdentity === undefined ? {} : { sourcePrincipal: ctx.peerIdentity }),
    ...(ctx.sourceIp === undefined ? {} : { sourceIp: ctx.sourceIp }),
  });
  if (!decision.allow) return localReply(ex, decision.status, decision.body, 'RBAC');
  const selected = selectFor(ctx, req, url, authority);
  if (selected === undefined) return localReply(ex, 404, '', 'NR');
  if (selected === 'workload') return forwardToWorkload(deps, ex, url, authority);
  return routeAndForward(deps, ex, selected, url, authority);
}

/** The request target with its path normalised (query kept, fragment dropped); undefined = 400. */
export function normalizedTarget(target: string): string | undefined {
  const n = normalizePathBase(target);
  if (!n.ok) return undefined;
  const q = target.indexOf('?');
  if (q < 0) return n.path;
  const h = target.indexOf('#', q);
  return n.path + (h < 0 ? target.slice(q) : target.slice(q, h));
}

async function routeAndForward(deps: HandlerDeps, ex: Exchange, sel: Selected, url: string, authority: string): Promise<void> {
  const { route, matchIndex } = sel;
  const req = ex.req;
  const fault = decideFault(route.fault, deps.rand);
  if (fault !== undefined && fault.delayMs > 0) {
    await new Promise((r) => setTimeout(r, fault.delayMs));
    if (ex.signal.aborted) return;
  }
  if (fault !== undefined && fault.abortStatus !== 0) {
    if (fault.grpcStatus !== undefined) return localReply(ex, 200, '', 'FI', { 'content-type': 'application/grpc', 'grpc-status': String(fault.grpcStatus) });
    return localReply(ex, fault.abortStatus, 'fault filter abort', 'FI');
  }
  // Istio's filter order: fault, then cors, then the router (direct response, redirect, forwarding).
  const cors = evaluateCors(route, req.method ?? 'GET', req.headers);
  if (cors?.kind === 'preflight') {
    ex.record.responseCode = 200;
    return void ex.res.writeHead(200, { ...cors.headers, 'content-length': '0' }).end();
  }
  if (cors !== undefined) addCorsResponseHeaders(ex.res, cors.headers);
  if (route.directResponse !== undefined) return localReply(ex, route.directResponse.status, route.directResponse.body, 'DR');
  const redirect = redirectLocation(route, { scheme: 'http', authority, path: url });
  if (redirect !== undefined) return localReply(ex, redirect.status, '', 'DR', { location: redirect.location });
  const headers = upstreamHeaders(req, rewriteAuthority(route, authority), ex.ctx);
  applyHeaderOps(headers, route.requestHeaders);
  const read = await requestBody(ex, (route.retries?.attempts ?? 0) > 0);
  if (read === 'too-large') return localReply(ex, 413, 'Payload Too Large', '-');
  const path = rewriteTarget(route, matchIndex, url);
  const body = mirror(deps, ex, route, { method: req.method ?? 'GET', path, headers, port: ex.ctx.target.port }, read);
  const run = forward(deps, ex, { route, method: req.method ?? 'GET', path, headers, port: ex.ctx.target.port, body, sourceIp: ex.ctx.sourceIp });
  return withRouteTimeout(ex, route.timeoutMs, run);
}

/** Fires the route's sampled mirrors; returns the body the main request should send (teed when streamed). */
function mirror(deps: HandlerDeps, ex: Exchange, route: waypoint.Route, m: { method: string; path: string; headers: HeaderMap; port: number }, body: Buffer | Readable | undefined): Buffer | Readable | undefined {
  if (deps.mirrors === undefined || route.mirrors.length === 0) return body;
  const chosen = sampledMirrors(route, deps.rand ?? Math.random);
  if (chosen.length === 0) return body;
  if (body === undefined || Buffer.isBuffer(body)) {
    deps.mirrors.fire(chosen, { ...m, headers: { ...m.headers }, body: Promise.resolve(body) });
    return body;
  }
  const { main, copy } = teeBody(body, RETRY_BODY_LIMIT_BYTES);
  deps.mirrors.fire(chosen, { ...m, headers: { ...m.headers }, body: copy });
  return main;
}

async function forwardToWorkload(deps: HandlerDeps, ex: Exchange, url: string, authority: string): Promise<void> {
  const t = ex.ctx.target;
  if (t.kind !== 'workload') return;
  const headers = upstreamHeaders(ex.req, authority, ex.ctx);
  const route = { backends: [], retries: undefined, timeoutMs: 0 } as unknown as waypoint.Route;
  const body = await requestBody(ex, false);
  if (body === 'too-large') return;
  const fixedEndpoint = { workload: t.workload, ip: t.ip, port: t.port };
  return forward(deps, ex, { route, method: ex.req.method ?? 'GET', path: url, headers, port: t.port, fixedEndpoint, body });
}

/** Whole-request timeout (route timeout): 504 "upstream request timeout" if no response started in time. */
async function withRouteTimeout(ex: Exchange, timeoutMs: number, run: Promise<void>): Promise<void> {
  if (timeoutMs <= 0) return run;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), timeoutMs);
  });
  const result = await Promise.race([run.then(() => 'done' as const), expired]);
  clearTimeout(timer);
  if (result === 'expired' && !ex.res.headersSent) {
    localReply(ex, 504, 'upstream request timeout', 'UT');
  }
}

function upstreamHeaders(req: DownstreamRequest, authority: string, ctx: TunnelContext): HeaderMap {
  const headers = forwardableHeaders(req.headers);
  headers.host = authority;
  if (headers.traceparent === undefined) headers.traceparent = ctx.traceparent ?? newTraceparent();
  if (headers['x-request-id'] === undefined) headers['x-request-id'] = randomHex(16);
  headers['x-forwarded-proto'] ??= 'http';
  return headers;
}

/** Buffered body when it may be replayed (retries), else the stream itself; counts request bytes. */
async function requestBody(ex: Exchange, replayable: boolean): Promise<Buffer | Readable | 'too-large' | undefined> {
  const req = ex.req as Readable;
  const whole = req instanceof Http1Request ? req.takeBody() : undefined;
  if (whole !== undefined) {
    ex.record.requestBytes += whole.length;
    ex.grpcMessages?.request.push(whole);
    if (replayable && whole.length > RETRY_BODY_LIMIT_BYTES) return 'too-large';
    return whole.length === 0 ? undefined : whole;
  }
  if (!replayable) return req;
  const chunks: Buffer[] = [];
  for await (const c of req) {
    const b = c as Buffer;
    ex.record.requestBytes += b.length;
    ex.grpcMessages?.request.push(b);
    if (ex.record.requestBytes > RETRY_BODY_LIMIT_BYTES) return 'too-large';
    chunks.push(b);
  }
  return chunks.length === 0 ? undefined : Buffer.concat(chunks);
}
