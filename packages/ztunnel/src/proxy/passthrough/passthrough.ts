// Inbound plaintext (15006 inside the pod): traffic that did not arrive over HBONE. No peer identity, so
// a STRICT PeerAuthentication (converted by istiod to a DENY of "no principal") refuses it
// (Z:src/proxy/inbound_passthrough.rs).
import type { Socket } from 'node:net';
import { fdOf, getOriginalDst } from '@mesh/netns';
import { ILLEGAL_PORTS, podWorkload, type PodContext, type ProxyInputs } from '../context';
import { clientSideCounts, recordOpen, recordRejected, relay } from '../copy/index';
import { formatAddr, plainIp } from '../addr';
import { newRecord } from '../record';
import { errMessage } from '../outbound/outbound';
import { connectUpstream } from '../inbound/upstream';

export function handlePassthrough(inputs: ProxyInputs, pod: PodContext, client: Socket): void {
  client.setNoDelay(true);
  client.on('error', () => undefined);
  passthrough(inputs, pod, client).catch((err: unknown) => {
    pod.logger.warn({ err }, 'inbound plaintext connection failed');
    client.destroy();
  });
}

async function passthrough(inputs: ProxyInputs, pod: PodContext, client: Socket): Promise<void> {
  const orig = getOriginalDst(fdOf(client));
  const dstIp = plainIp(orig.address);
  const srcIp = plainIp(client.remoteAddress);
  const src = formatAddr(srcIp, client.remotePort ?? 0);
  const dst = formatAddr(dstIp, orig.port);
  const destination = podWorkload(inputs, pod, dstIp);
  const rec = newRecord(inputs, pod, {
    reporter: 'destination', src, dst, source: inputs.state.workloadByAddress(inputs.network, srcIp), destination,
    securityPolicy: 'unknown',
  }, [client]);
  if (ILLEGAL_PORTS.has(orig.port)) {
    recordRejected(rec, 'CONNECT', `port ${orig.port} is a ztunnel port (self call)`);
    client.resetAndDestroy();
    return;
  }
  if (destination === undefined) {
    recordRejected(rec, 'CONNECT', 'destination is not this pod\'s workload in xDS');
    client.resetAndDestroy();
    return;
  }
  const authz = inputs.authorize({ sourceIp: srcIp, sourceIdentity: undefined, destination, destinationIp: dstIp, destinationPort: orig.port });
  if (!authz.allowed) {
    recordRejected(rec, 'DENY', `denied by authorization policy${authz.reason ? ` ${authz.reason}` : ''}`);
    client.resetAndDestroy();
    return;
  }
  let upstream: Socket;
  try {
    upstream = await connectUpstream({ sockets: pod.sockets, ip: dstIp, port: orig.port, sourceIp: srcIp, mark: inputs.packetMark });
  } catch (err) {
    recordRejected(rec, 'CONNECT', errMessage(err));
    client.resetAndDestroy();
    return;
  }
  recordOpen(rec);
  relay(client, upstream, clientSideCounts(client), rec);
}
