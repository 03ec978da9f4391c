// The narrow views of the rest of ztunnel the data path needs. The xDS store (src/state), the authorization
// engine (src/rbac) and the decision module (src/proxy/decision) satisfy them; the app wires them in once at
// start, so the per-connection code never depends on how those are built (mirrors Z:src/proxy.rs `ProxyInputs`).
import type { Workload, workload } from '@mesh/api';
import type { OutboundPlan, ServiceRef } from './decision/index';

/** Lookups the data path does per connection (MeshState satisfies this structurally). */
export interface ProxyState {
  workloadByUid(uid: string): Workload | undefined;
  workloadByAddress(network: string, ip: string): Workload | undefined;
  serviceByVip(network: string, ip: string): workload.Service | undefined;
}

export interface SocketTarget {
  readonly ip: string;
  readonly port: number;
}

/**
 * Where an outbound connection goes: the decision module's plan (Z:src/proxy/outbound.rs `Request`). A decider
 * throws a typed MeshError (SelfCall, NoHealthyUpstream, UnknownWaypoint, ...) when the connection must be refused.
 */
export type { OutboundPlan };

export interface OutboundRequest {
  readonly source: Workload;
  readonly sourceIp: string;
  readonly destination: SocketTarget;
}

export type OutboundDecider = (req: OutboundRequest) => OutboundPlan;

export interface AuthorizationRequest {
  readonly sourceIp: string;
  /** `spiffe://...` of the verified client certificate; undefined for plaintext (15006). */
  readonly sourceIdentity: string | undefined;
  readonly destination: Workload;
  readonly destinationIp: string;
  readonly destinationPort: number;
}

export interface AuthorizationResult {
  readonly allowed: boolean;
  /** The deciding policy (`namespace/name`) or a short reason, for logs. */
  readonly reason?: string;
}

export type Authorizer = (req: AuthorizationRequest) => AuthorizationResult;

/** Result of validating a CONNECT's `:authority` on the inbound side (Z:src/proxy/inbound.rs). */
export type InboundTarget =
  | { readonly ok: true; readonly port: number; readonly service?: ServiceRef }
  | { readonly ok: false; readonly status: 400 | 503; readonly reason: string };

export interface InboundTargetRequest {
  readonly destination: Workload;
  /** The CONNECT `:authority` as sent. */
  readonly authority: string;
  /** The listener's local IP (the pod IP the client connected to). */
  readonly localIp: string;
  readonly authorityHost: string;
  readonly authorityPort: number;
}

export type InboundResolver = (req: InboundTargetRequest) => InboundTarget;
