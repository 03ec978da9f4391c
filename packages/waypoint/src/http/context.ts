// What the listener learned about one HBONE tunnel, shared by every request carried in it.
import type { ServiceEntryState } from '../config/index';
import type { JwtRule } from '../config/types';
import type { CompiledPolicies } from '../policy/index';
import type { UpstreamService, UpstreamWorkload } from '../upstream/index';

/** The tunnel's original destination (the CONNECT :authority ztunnel sent). */
export type TunnelTarget =
  | {
      readonly kind: 'service';
      /** Compiled routes and policies of the service (from WaypointConfig). */
      readonly entry: ServiceEntryState;
      /** The service as the Address state knows it (endpoints), when known. */
      readonly service: UpstreamService | undefined;
      readonly hostname: string;
      readonly port: number;
      readonly authority: string;
    }
  | {
      readonly kind: 'workload';
      readonly workload: UpstreamWorkload;
      /** Waypoint-wide policies (workload-addressed traffic has no service policies). */
      readonly policies: CompiledPolicies;
      /** Waypoint-wide RequestAuthentication rules. */
      readonly jwtRules: readonly JwtRule[];
      readonly ip: string;
      readonly port: number;
      readonly authority: string;
    };

export interface TunnelContext {
  /** Client SPIFFE id from the verified HBONE client certificate. */
  readonly peerIdentity: string | undefined;
  /** Original client IP from the CONNECT `forwarded: for=` (ztunnel sets it), else the peer's address. */
  readonly sourceIp: string | undefined;
  readonly target: TunnelTarget;
  /** traceparent of the CONNECT (connection-level; used when a request carries none). */
  readonly traceparent: string | undefined;
}
