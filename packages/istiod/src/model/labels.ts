import { LABELS, type LabelSelector, type Pod } from '@mesh/api';

/** Every selector label is present with the same value (Istio labels.Instance.SubsetOf). */
export function isSubset(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>> | undefined): boolean {
  for (const k in selector) if (labels?.[k] !== selector[k]) return false;
  return true;
}

/** krt.FilterSelectsNonEmpty: an empty or absent selector selects nothing (a selector-less Service). */
export function selectsNonEmpty(selector: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>> | undefined): boolean {
  return selector !== undefined && Object.keys(selector).length > 0 && isSubset(selector, labels);
}

/** metav1.LabelSelector semantics (matchLabels AND matchExpressions); an empty selector matches everything. */
export function labelSelectorMatches(sel: LabelSelector | undefined, labels: Readonly<Record<string, string>> | undefined): boolean {
  if (sel === undefined) return true;
  if (sel.matchLabels && !isSubset(sel.matchLabels, labels)) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = labels !== undefined && Object.prototype.hasOwnProperty.call(labels, e.key);
    const v = labels?.[e.key];
    const values = e.values ?? [];
    if (e.operator === 'In' && !(has && values.includes(v!))) return false;
    if (e.operator === 'NotIn' && has && values.includes(v!)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

const POD_TEMPLATE_HASH = 'pod-template-hash';
/** Istio pkg/kube/util.go: a Job named `<cronjob>-<8..10 digit schedule time>` belongs to a CronJob. */
const CRONJOB_JOB_NAME = /^(.+)-\d{8,10}$/;

/**
 * The workload (Deployment, CronJob, ...) a pod belongs to, as Istio's kube.GetDeployMetaFromPod: only for
 * generated names with a controller owner; ReplicaSet -> Deployment by trimming the pod-template-hash,
 * Job -> CronJob by trimming the timestamp suffix; otherwise the owner's or the pod's own name.
 */
export function workloadNameFromPod(pod: Pod): string {
  const meta = pod.metadata;
  if (!meta.generateName) return meta.name;
  const owner = meta.ownerReferences?.find((r) => r.controller === true);
  if (owner === undefined) return meta.name;
  const hash = meta.labels?.[POD_TEMPLATE_HASH];
  if (owner.kind === 'ReplicaSet' && hash && owner.name.endsWith(hash)) {
    const trimmed = owner.name.slice(0, owner.name.length - hash.length);
    return trimmed.endsWith('-') ? trimmed.slice(0, -1) : trimmed;
  }
  if (owner.kind === 'Job') {
    const m = CRONJOB_JOB_NAME.exec(owner.name);
    if (m) return m[1]!;
  }
  return owner.name;
}

/** Istio pkg/kube/labels CanonicalService: label fallbacks, then the workload name / `latest`. */
export function canonicalService(labels: Readonly<Record<string, string>> | undefined, workloadName: string): { name: string; revision: string } {
  const pick = (keys: string[]): string | undefined => {
    for (const k of keys) if (labels !== undefined && Object.prototype.hasOwnProperty.call(labels, k)) return labels[k];
    return undefined;
  };
  return {
    name: pick([LABELS.CANONICAL_NAME, LABELS.APP_KUBERNETES_NAME, LABELS.APP]) ?? workloadName,
    revision: pick([LABELS.CANONICAL_REVISION, LABELS.APP_KUBERNETES_VERSION, LABELS.VERSION]) ?? 'latest',
  };
}
