import type { Logger } from '@mesh/core';
import { bearerTokenOf } from './bearer';
import { AuthUnauthenticatedError } from './errors';
import type { Authenticator, CallerIdentity } from './types';

/** Audience ztunnel's projected token is minted for (manifests/charts/ztunnel daemonset: audience istio-ca). */
export const ISTIO_CA_AUDIENCE = 'istio-ca';
const SA_USER_PREFIX = 'system:serviceaccount:';
// Keys the API server puts in TokenReview status.user.extra for bound (projected) tokens.
const EXTRA_POD_NAME = 'authentication.kubernetes.io/pod-name';
const EXTRA_POD_UID = 'authentication.kubernetes.io/pod-uid';
const EXTRA_NODE_NAME = 'authentication.kubernetes.io/node-name';

/** The fields of a TokenReview status we use (matches V1TokenReviewStatus of @kubernetes/client-node). */
export interface TokenReviewStatus {
  authenticated?: boolean;
  error?: string;
  audiences?: string[];
  user?: { username?: string; uid?: string; extra?: Record<string, string[]> };
}

/** Runs one TokenReview; the real one posts to the API server, tests pass a fake. */
export type TokenReviewer = (token: string, audiences: readonly string[]) => Promise<TokenReviewStatus>;

/** What the authenticator needs of a pod: its node, and uid/service account to cross-check the token. */
export interface PodInfo {
  uid?: string;
  nodeName?: string;
  serviceAccount?: string;
}
export type PodLookup = (namespace: string, name: string) => Promise<PodInfo | undefined>;

export interface KubeTokenReviewAuthenticatorOptions {
  review: TokenReviewer;
  /** Used when the token carries no node-name extra (Kubernetes < 1.30) to find the caller's node. */
  lookupPod?: PodLookup;
  audiences?: readonly string[];
  logger?: Logger;
}

/**
 * Kubernetes mode, mirroring Istio's KubeJWTAuthenticator (security/pkg/server/ca/authenticate/kubeauth):
 * TokenReview the bearer token for audience istio-ca, require `system:serviceaccount:<ns>:<sa>`, and take the
 * pod name/uid from the bound token's extra. The node comes from the node-name extra, else from the pod,
 * whose uid and service account must match the token (Istio's node authorizer does the same check).
 */
export function kubeTokenReviewAuthenticator(options: KubeTokenReviewAuthenticatorOptions): Authenticator {
  const audiences = options.audiences ?? [ISTIO_CA_AUDIENCE];
  return async (call) => {
    const token = bearerTokenOf(call);
    const fail = (reason: string): never => {
      throw new AuthUnauthenticatedError({ peer: call.peer, reason });
    };
    let status: TokenReviewStatus;
    try {
      status = await options.review(token, audiences);
    } catch (err) {
      options.logger?.warn({ err }, 'TokenReview call failed');
      return fail(`TokenReview failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    const caller = callerFromTokenReview(status, audiences);
    if (typeof caller === 'string') return fail(caller);
    if (caller.nodeName !== undefined || caller.podName === undefined || options.lookupPod === undefined) return caller;
    const pod = await options.lookupPod(caller.namespace, caller.podName).catch(() => undefined);
    if (pod === undefined) return fail(`caller pod ${caller.namespace}/${caller.podName} was not found`);
    if (caller.podUid !== undefined && pod.uid !== undefined && pod.uid !== caller.podUid) {
      return fail(`caller pod ${caller.namespace}/${caller.podName} has uid ${pod.uid}, the token was issued for ${caller.podUid}`);
    }
    if (pod.serviceAccount !== undefined && pod.serviceAccount !== caller.serviceAccount) {
      return fail(`caller pod runs as ${pod.serviceAccount}, the token is for ${caller.serviceAccount}`);
    }
    return pod.nodeName === undefined ? caller : { ...caller, nodeName: pod.nodeName };
  };
}

/** Map a TokenReview status to the caller; a string is the reason it is refused. */
export function callerFromTokenReview(status: TokenReviewStatus, audiences: readonly string[]): CallerIdentity | string {
  if (status.authenticated !== true) return `the token was not accepted by TokenReview${status.error ? `: ${status.error}` : ''}`;
  if (status.audiences !== undefined && status.audiences.length > 0 && !status.audiences.some((a) => audiences.includes(a))) {
    return `the token's audiences [${status.audiences.join(', ')}] do not include ${audiences.join(', ')}`;
  }
  const username = status.user?.username ?? '';
  if (!username.startsWith(SA_USER_PREFIX)) return `"${username}" is not a service account (want ${SA_USER_PREFIX}<ns>:<sa>)`;
  const [namespace, serviceAccount, ...rest] = username.slice(SA_USER_PREFIX.length).split(':');
  if (!namespace || !serviceAccount || rest.length > 0) return `malformed service account user "${username}"`;
  const extra = status.user?.extra ?? {};
  const one = (k: string): string | undefined => extra[k]?.[0] || undefined;
  const podName = one(EXTRA_POD_NAME);
  const podUid = one(EXTRA_POD_UID);
  const nodeName = one(EXTRA_NODE_NAME);
  return {
    namespace,
    serviceAccount,
    method: 'kube-token-review',
    ...(podName === undefined ? {} : { podName }),
    ...(podUid === undefined ? {} : { podUid }),
    ...(nodeName === undefined ? {} : { nodeName }),
  };
}
