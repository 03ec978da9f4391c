import { defineMeshError } from '@mesh/core';

interface PodFailure {
  readonly pod: string;
  readonly reason: string;
}

/** The pod's netns could not be opened (sandbox gone, or not created yet): not retried (Istio ErrNonRetryableAdd). */
export const PodNetnsError = defineMeshError(
  'CNI_POD_NETNS',
  'PodNetnsError',
  (d: PodFailure) => `cannot open the network namespace of pod ${d.pod}: ${d.reason}; has its sandbox gone away?`,
);

/** In-pod iptables/routing failed (rolled back): not retried, the plugin fails ADD (Istio ErrNonRetryableAdd). */
export const PodRedirectionError = defineMeshError(
  'CNI_POD_REDIRECTION',
  'PodRedirectionError',
  (d: PodFailure) => `cannot program in-pod redirection for pod ${d.pod}: ${d.reason}`,
);

/** Rules are in place but ztunnel did not take the pod: the pod is annotated `pending`, and this is retryable. */
export const PodZtunnelError = defineMeshError(
  'CNI_POD_ZTUNNEL',
  'PodZtunnelError',
  (d: PodFailure) => `pod ${d.pod} is redirected but ztunnel did not accept it: ${d.reason}`,
);

/** The pod the plugin asked about never appeared in the agent's pod source. */
export const PodUnknownError = defineMeshError(
  'CNI_POD_UNKNOWN',
  'PodUnknownError',
  (d: { pod: string; waitedMs: number }) =>
    `pod ${d.pod} is not known to the node agent after ${d.waitedMs} ms; is the agent watching the right source and node (NODE_NAME)?`,
);

export const PodRemoveError = defineMeshError(
  'CNI_POD_REMOVE',
  'PodRemoveError',
  (d: PodFailure) => `cannot remove pod ${d.pod} from the mesh: ${d.reason}`,
);

export function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
