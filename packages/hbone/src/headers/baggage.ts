/**
 * The `baggage` header ztunnel sends on CONNECT (and, with ENABLE_RESPONSE_BAGGAGE, in the
 * 200 response), describing the source (resp. destination) workload. Mirrors ztunnel src/baggage.rs:
 * only keys that are present are sent.
 */
export type WorkloadKind = 'deployment' | 'cronjob' | 'pod' | 'job';

export interface BaggageInfo {
  clusterId?: string;
  namespace?: string;
  workloadKind?: WorkloadKind;
  workloadName?: string;
  serviceName?: string;
  serviceVersion?: string;
  region?: string;
  zone?: string;
}

const KINDS: readonly WorkloadKind[] = ['deployment', 'cronjob', 'pod', 'job'];

const SIMPLE_KEYS: ReadonlyArray<[keyof BaggageInfo, string]> = [
  ['clusterId', 'k8s.cluster.name'],
  ['namespace', 'k8s.namespace.name'],
  ['serviceName', 'service.name'],
  ['serviceVersion', 'service.version'],
  ['region', 'cloud.region'],
  ['zone', 'cloud.availability_zone'],
];

// Values must not break the list syntax; baggage values are percent-encoded per W3C.
function encodeValue(v: string): string {
  return encodeURIComponent(v).replace(/%2F/gi, '/').replace(/%3A/gi, ':');
}

export function formatBaggage(info: BaggageInfo): string {
  const parts: string[] = [];
  const push = (key: string, value: string | undefined): void => {
    if (value) parts.push(`${key}=${encodeValue(value)}`);
  };
  push('k8s.cluster.name', info.clusterId);
  push('k8s.namespace.name', info.namespace);
  if (info.workloadKind) push(`k8s.${info.workloadKind}.name`, info.workloadName);
  push('service.name', info.serviceName);
  push('service.version', info.serviceVersion);
  push('cloud.region', info.region);
  push('cloud.availability_zone', info.zone);
  return parts.join(',');
}

function decodeValue(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw.trim());
  } catch {
    return undefined;
  }
}

function applyMember(out: BaggageInfo, key: string, value: string): void {
  for (const [field, name] of SIMPLE_KEYS) {
    if (key === name) {
      if (out[field] === undefined) (out as Record<string, string>)[field] = value;
      return;
    }
  }
  const m = /^k8s\.([a-z]+)\.name$/.exec(key);
  const kind = KINDS.find((k) => k === m?.[1]);
  if (kind && out.workloadName === undefined) {
    out.workloadKind = kind;
    out.workloadName = value;
  }
}

/** Parses a baggage header; unknown or malformed members are skipped. Never throws. */
export function parseBaggage(header: string | undefined): BaggageInfo {
  const out: BaggageInfo = {};
  if (typeof header !== 'string') return out;
  for (const member of header.split(',')) {
    const kv = member.split(';')[0] ?? '';
    const eq = kv.indexOf('=');
    if (eq <= 0) continue;
    const value = decodeValue(kv.slice(eq + 1));
    if (value) applyMember(out, kv.slice(0, eq).trim(), value);
  }
  return out;
}
