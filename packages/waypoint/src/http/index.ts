export { createRequestHandler, RETRY_BODY_LIMIT_BYTES, type HandlerDeps, type RequestHandler } from './handler';
export type { TunnelContext, TunnelTarget } from './context';
export type { DownstreamRequest, DownstreamResponse } from './exchange';
export { applyHeaderOps, forwardableHeaders, type HeaderMap } from './header-ops';
export { decideFault, type FaultDecision } from './fault';
export { isRetriable, type TryOutcome } from './retry';
