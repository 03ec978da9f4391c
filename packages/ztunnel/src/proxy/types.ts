// The narrow views of the rest of ztunnel the data path needs. The xDS store (src/state), the authorization
// engine (src/rbac) and the decision module (src/proxy/decision) satisfy them; the app wires them in once at
// start, so the per-connection code never depends on how those are built (mirrors Z:src/proxy.rs `ProxyInputs`).
import type { Workload, workload } from '@mesh/api';

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

/** Where an outbound connection goes (Z:src/proxy/outbound.rs `Request`). */
export type OutboundPlan =
  | {
      readonly kind: 'hbone';
      /** Next hop `IP:15008` (pod or waypoint). */
      readonly nextHop: SocketTarget;
      /** The CONNECT `:authority`. */
      readonly authority: string;
      /** URI SANs the server must present (destination identity + Service SANs). */
      readonly expectedSans: readonly string[];
      readonly destinationWorkload?: Workload;
      readonly destinationService?: workload.Service;
    }
  | {
      readonly kind: 'tcp';
      readonly target: SocketTarget;
      readonly destinationWorkload?: Workload;
      readonly destinationService?: workload.Service;
    }
  | { readonly kind: 'passthrough'; readonly target: SocketTarget }
  | { readonly kind: 'refuse'; readonly reason: string };

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
  | { readonly ok: true; readonly port: number; readonly service?: workload.Service }
  | { readonly ok: false; readonly status: 400 | 503; readonly reason: string };

export interface InboundTargetRequest {
  readonly destination: Workload;
  /** The listener's local IP (the pod IP the client connected to). */
  readonly localIp: string;
  readonly authorityHost: string;
  readonly authorityPort: number;
}

export type InboundResolver = (req: InboundTargetRequest) => InboundTarget;
