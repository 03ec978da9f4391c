import type { KubeConfig } from '@kubernetes/client-node';
import { ANNOTATIONS, type Pod } from '@mesh/api';
import type { Logger } from '@mesh/core';
import { PodAnnotateError } from './directory-annotator';
import { kubeRequest } from './kube-http';
import type { PodAnnotator } from './pod-source';

const MERGE_PATCH_CONTENT_TYPE = 'application/merge-patch+json';
const HTTP_NOT_FOUND = 404;

/** The merge patch that sets (or, with null, removes) the redirection annotation and nothing else. */
export function redirectionPatch(value: string | undefined): string {
  return JSON.stringify({ metadata: { annotations: { [ANNOTATIONS.AMBIENT_REDIRECTION]: value ?? null } } });
}

/**
 * Writes `ambient.istio.io/redirection` with a JSON merge patch (Istio util.AnnotateEnrolledPod /
 * AnnotateUnenrollPod), so other annotations and concurrent writers are untouched. Always sent, even
 * when the cached pod already shows the value: the cache may lag our own previous patch. A pod that
 * is gone (404) needs no annotation.
 */
export class KubePodAnnotator implements PodAnnotator {
  readonly #kc: KubeConfig;
  readonly #log: Logger | undefined;

  constructor(kubeConfig: KubeConfig, logger?: Logger) {
    this.#kc = kubeConfig;
    this.#log = logger;
  }

  async setRedirection(pod: Pod, value: string | undefined): Promise<void> {
    const ns = pod.metadata.namespace ?? 'default';
    const name = pod.metadata.name;
    const path = `/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(name)}`;
    let status: number;
    try {
      ({ status } = await kubeRequest(this.#kc, 'PATCH', path, { contentType: MERGE_PATCH_CONTENT_TYPE, data: redirectionPatch(value) }));
    } catch (err) {
      throw new PodAnnotateError({ pod: `${ns}/${name}`, reason: err instanceof Error ? err.message : String(err) }, { cause: err });
    }
    if (status === HTTP_NOT_FOUND) {
      this.#log?.debug({ pod: `${ns}/${name}` }, 'pod gone before it could be annotated');
      return;
    }
    if (status < 200 || status >= 300) {
      throw new PodAnnotateError({ pod: `${ns}/${name}`, reason: `PATCH returned HTTP ${status}; does the istio-cni RBAC allow patching pods?` });
    }
  }
}
