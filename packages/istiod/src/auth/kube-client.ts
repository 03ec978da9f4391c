import { AuthenticationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { PodLookup, TokenReviewer } from './kube-token-review';

/** Loads in-cluster config, or KUBECONFIG / ~/.kube/config outside a cluster. */
export function loadKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}

/** The real TokenReview: POST authentication.k8s.io/v1 tokenreviews (needs RBAC `create tokenreviews`). */
export function kubeTokenReviewer(kc: KubeConfig): TokenReviewer {
  const api = kc.makeApiClient(AuthenticationV1Api);
  return async (token, audiences) => {
    const review = await api.createTokenReview({
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences: [...audiences] } },
    });
    const s = review.status ?? {};
    return {
      ...(s.authenticated === undefined ? {} : { authenticated: s.authenticated }),
      ...(s.error === undefined ? {} : { error: s.error }),
      ...(s.audiences === undefined ? {} : { audiences: s.audiences }),
      ...(s.user === undefined
        ? {}
        : { user: { ...(s.user.username === undefined ? {} : { username: s.user.username }), ...(s.user.extra === undefined ? {} : { extra: s.user.extra }) } }),
    };
  };
}

/** Reads the caller pod from the API server (GET pods), for clusters whose tokens lack the node-name extra. */
export function kubePodLookup(kc: KubeConfig): PodLookup {
  const api = kc.makeApiClient(CoreV1Api);
  return async (namespace, name) => {
    const pod = await api.readNamespacedPod({ namespace, name });
    const sa = pod.spec?.serviceAccountName;
    return {
      ...(pod.metadata?.uid === undefined ? {} : { uid: pod.metadata.uid }),
      ...(pod.spec?.nodeName === undefined ? {} : { nodeName: pod.spec.nodeName }),
      ...(sa === undefined ? {} : { serviceAccount: sa }),
    };
  };
}
