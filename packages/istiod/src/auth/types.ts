import type { Metadata } from '@grpc/grpc-js';

/** Who called istiod (CA or xDS), as established from the call's bearer token. */
export interface CallerIdentity {
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly podName?: string;
  readonly podUid?: string;
  /** Node the calling pod runs on; needed to allow node-agent (ztunnel) impersonation. */
  readonly nodeName?: string;
  /** How the caller was authenticated: `token-file`, `kube-token-review`, ... */
  readonly method: string;
}

/** The parts of a gRPC call an authenticator looks at; built from grpc-js calls or directly in tests. */
export interface AuthCall {
  readonly metadata: Metadata;
  /** `ip:port` of the peer, for error messages and logs. */
  readonly peer: string;
}

/** Resolves the caller or rejects with AuthUnauthenticatedError. */
export type Authenticator = (call: AuthCall) => Promise<CallerIdentity>;
