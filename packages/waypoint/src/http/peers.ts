// Source and destination facts for Istio's metric labels: the client identity from the HBONE certificate, its
// workload from the Address state by the original source IP (ztunnel's `forwarded: for=`).
import type { PeerFacts } from '../metrics/index';
import type { UpstreamState, UpstreamWorkload } from '../upstream/index';
import type { TunnelContext } from './context';

const SPIFFE_NS = /\/ns\/([^/]+)\/sa\//;

export function identityFacts(w: UpstreamWorkload): PeerFacts {
  const f: PeerFacts = { workload: w.workloadName, namespace: w.namespace, principal: w.identity };
  if (w.canonicalName !== '') f.canonicalService = w.canonicalName;
  if (w.canonicalRevision !== '') f.canonicalRevision = w.canonicalRevision;
  if (w.clusterId !== '') f.cluster = w.clusterId;
  return f;
}

export function sourceFacts(ctx: TunnelContext, upstream: UpstreamState): PeerFacts {
  const w = ctx.sourceIp === undefined ? undefined : upstream.workloadByIp(ctx.sourceIp);
  // The workload found by IP must carry the identity that authenticated; otherwise only trust the cert.
  if (w !== undefined && (ctx.peerIdentity === undefined || w.identity === ctx.peerIdentity)) return identityFacts(w);
  const f: PeerFacts = {};
  if (ctx.peerIdentity !== undefined) {
    f.principal = ctx.peerIdentity;
    const ns = SPIFFE_NS.exec(ctx.peerIdentity)?.[1];
    if (ns !== undefined) f.namespace = ns;
  }
  return f;
}
