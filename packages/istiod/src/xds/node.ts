import type { envoyCore, JsonValue } from '@mesh/api';
import { XdsBadNodeError } from './errors';

/** What istiod learns about a proxy from its Node (mirrors Istio pkg/model/proxy.go ParseServiceNodeWithMetadata). */
export interface ProxyNode {
  /** Full node id as sent. */
  readonly id: string;
  /** NodeType: `ztunnel`, `sidecar`, `router`, `waypoint`. */
  readonly type: string;
  readonly ip: string;
  /** `<pod>.<namespace>` part of the id. */
  readonly podId: string;
  readonly dnsDomain: string;
  readonly name: string;
  readonly namespace: string;
  readonly nodeName: string;
  readonly clusterId: string;
  readonly istioVersion: string;
}

const NODE_ID_PARTS = 4;

function metaString(meta: Record<string, JsonValue> | undefined, key: string): string {
  const v = meta?.[key];
  return typeof v === 'string' ? v : '';
}

/** Parse `type~ip~pod.ns~ns.svc.cluster.local` and the metadata Istio reads; throws XdsBadNodeError. */
export function parseNode(node: envoyCore.Node | undefined): ProxyNode {
  if (node === undefined || node.id === '') {
    throw new XdsBadNodeError({ id: node?.id ?? '', reason: 'the first request on a stream must carry node.id' });
  }
  const parts = node.id.split('~');
  if (parts.length !== NODE_ID_PARTS || parts.some((p) => p === '')) {
    throw new XdsBadNodeError({ id: node.id, reason: `it has ${parts.length} non-empty "~"-separated parts, want 4` });
  }
  const [type, ip, podId, dnsDomain] = parts as [string, string, string, string];
  const meta = node.metadata;
  const dot = podId.indexOf('.');
  return {
    id: node.id,
    type,
    ip,
    podId,
    dnsDomain,
    name: metaString(meta, 'NAME') || (dot > 0 ? podId.slice(0, dot) : podId),
    namespace: metaString(meta, 'NAMESPACE') || (dot > 0 ? podId.slice(dot + 1) : ''),
    nodeName: metaString(meta, 'NODE_NAME'),
    clusterId: metaString(meta, 'CLUSTER_ID'),
    istioVersion: metaString(meta, 'ISTIO_VERSION') || 'unknown',
  };
}
