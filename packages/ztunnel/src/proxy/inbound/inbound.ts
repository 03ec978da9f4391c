// Inbound HBONE (15008 inside the pod): mTLS with the destination pod's certificate, then per CONNECT
// stream: authority validation, authorization, spoofed-source connect to the app, 200 and copy
// (Z:src/proxy/inbound.rs). Status codes: 400 bad authority/IP mismatch, 401 denied, 503 unknown
// workload / port / upstream failure.
import { createHboneServer, trustDomainVerifier, type HboneServer, type HboneTunnelRequest } from '@mesh/hbone';
import { makeIdentity } from '@mesh/identity';
import { ILLEGAL_PORTS, podWorkload, workloadIdentity, type PodContext, type ProxyInputs } from '../context';
import { recordOpen, recordRejected, relay, upstreamSideCounts } from '../copy/index';
import { formatAddr, plainIp } from '../addr';
import { newRecord } from '../record';
import { errMessage } from '../outbound/outbound';
import { connectUpstream } from './upstream';

export function createInboundServer(inputs: ProxyInputs, pod: PodContext): HboneServer {
  const fallbackIdentity = makeIdentity(inputs.trustDomain, pod.info.namespace, pod.info.serviceAccount || 'default');
  return createHboneServer({
    // The listener belongs to one pod, so its certificate is that pod's (HBONE sends no SNI).
    secureContextFor: (local) => {
      const wl = podWorkload(inputs, pod, plainIp(local.address));
      return inputs.credentials.secureContext(wl ? workloadIdentity(wl, inputs.trustDomain) : fallbackIdentity);
    },
    verifyClient: trustDomainVerifier(inputs.trustDomain),
    onConnect: (req) => onConnect(inputs, pod, req),
    onError: (err, ctx) => pod.logger.debug({ err: err.message, phase: ctx.phase, remote: ctx.remote }, 'inbound HBONE error'),
  });
}

async function onConnect(inputs: ProxyInputs, pod: PodContext, req: HboneTunnelRequest): Promise<void> {
  const localIp = plainIp(req.local.address);
  const srcIp = plainIp(req.remote.address);
  const src = formatAddr(srcIp, req.remote.port);
  const destination = podWorkload(inputs, pod, localIp);
  if (destination === undefined) {
    pod.logger.info({ src, local: localIp }, 'inbound HBONE for a workload unknown to xDS: 503');
    req.reject(503);
    return;
  }
  const target = inputs.resolveInbound({ destination, localIp, authority: req.authority, authorityHost: req.target.host, authorityPort: req.target.port });
  if (!target.ok) {
    pod.logger.info({ src, authority: req.authority, reason: target.reason }, `inbound HBONE rejected: ${target.status}`);
    req.reject(target.status);
    return;
  }
  const dst = formatAddr(localIp, target.port);
  const rec = newRecord(inputs, pod, {
    reporter: 'destination', src, dst, hboneAddr: req.authority, peerIdentity: req.peer.identity,
    source: inputs.state.workloadByAddress(inputs.network, srcIp), destination, destinationService: target.service,
    securityPolicy: 'mutual_tls',
  }, []);
  if (ILLEGAL_PORTS.has(target.port)) {
    recordRejected(rec, 'CONNECT', `port ${target.port} is a ztunnel port (self call)`);
    req.reject(503);
    return;
  }
  const authz = inputs.authorize({
    sourceIp: srcIp, sourceIdentity: req.peer.identity, destination, destinationIp: localIp, destinationPort: target.port,
  });
  if (!authz.allowed) {
    recordRejected(rec, 'DENY', `denied by authorization policy${authz.reason ? ` ${authz.reason}` : ''}`);
    req.reject(401);
    return;
  }
  let upstream;
  try {
    upstream = await connectUpstream({ sockets: pod.sockets, ip: localIp, port: target.port, sourceIp: srcIp, mark: inputs.packetMark });
  } catch (err) {
    recordRejected(rec, 'CONNECT', errMessage(err));
    req.reject(503);
    return;
  }
  if (req.cancelled) {
    upstream.destroy();
    rec.release();
    return;
  }
  const tunnel = req.accept();
  rec.track(tunnel, upstream);
  recordOpen(rec);
  relay(tunnel, upstream, upstreamSideCounts(upstream), rec);
}
