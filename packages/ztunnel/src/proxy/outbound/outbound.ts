// Outbound (15001 inside the pod): the app's connection was REDIRECTed here; recover the original
// destination, decide where it goes, and carry it there (Z:src/proxy/outbound.rs).
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connectSocketInNetns, fdOf, getOriginalDst } from '@mesh/netns';
import { formatBaggage, formatForwarded, HboneConnectRefusedError, type WorkloadKind } from '@mesh/hbone';
import { formatSpiffeId } from '@mesh/identity';
import type { Workload } from '@mesh/api';
import { clientSideCounts, recordOpen, recordRejected, relay, type ConnectionRecord } from '../copy/index';
import { ILLEGAL_PORTS, workloadIdentity, type PodContext, type ProxyInputs } from '../context';
import { formatAddr, isLoopbackIp, plainIp } from '../addr';
import { newRecord } from '../record';
import type { OutboundPlan } from '../types';

const WORKLOAD_KINDS: readonly WorkloadKind[] = ['deployment', 'cronjob', 'pod', 'job'];

export function handleOutbound(inputs: ProxyInputs, pod: PodContext, client: Socket): void {
  client.setNoDelay(true);
  client.on('error', () => undefined);
  outbound(inputs, pod, client).catch((err: unknown) => {
    pod.logger.warn({ err }, 'outbound connection failed');
    client.destroy();
  });
}

async function outbound(inputs: ProxyInputs, pod: PodContext, client: Socket): Promise<void> {
  const orig = getOriginalDst(fdOf(client));
  const dstIp = plainIp(orig.address);
  const srcIp = plainIp(client.remoteAddress);
  const src = formatAddr(srcIp, client.remotePort ?? 0);
  // A connection to ztunnel's own ports would loop through the redirect forever.
  if (ILLEGAL_PORTS.has(orig.port) && (isLoopbackIp(dstIp) || dstIp === srcIp)) {
    pod.logger.info({ dst: formatAddr(dstIp, orig.port) }, 'outbound to a ztunnel port refused (self call)');
    client.resetAndDestroy();
    return;
  }
  const source = inputs.state.workloadByAddress(inputs.network, srcIp);
  if (source === undefined) {
    pod.logger.warn({ src }, 'outbound from an address unknown to xDS; closing (is the workload in the mesh yet?)');
    client.resetAndDestroy();
    return;
  }
  const plan = inputs.decide({ source, sourceIp: srcIp, destination: { ip: dstIp, port: orig.port } });
  await execute(inputs, pod, client, source, plan, { src, dst: formatAddr(dstIp, orig.port), srcIp });
}

interface Endpoints {
  src: string;
  dst: string;
  srcIp: string;
}

async function execute(inputs: ProxyInputs, pod: PodContext, client: Socket, source: Workload, plan: OutboundPlan, ep: Endpoints): Promise<void> {
  if (plan.kind === 'refuse') {
    pod.logger.info({ src: ep.src, dst: ep.dst, reason: plan.reason }, 'outbound connection refused');
    client.resetAndDestroy();
    return;
  }
  const sourcePrincipal = formatSpiffeId(workloadIdentity(source, inputs.trustDomain));
  if (plan.kind === 'hbone') {
    const rec = newRecord(inputs, pod, {
      reporter: 'source', src: ep.src, dst: ep.dst, hboneAddr: formatAddr(plan.nextHop.ip, plan.nextHop.port),
      source, sourcePrincipal, destination: plan.destinationWorkload, destinationService: plan.destinationService,
      destinationPrincipal: plan.expectedSans[0], securityPolicy: 'mutual_tls',
    }, [client]);
    await viaHbone(inputs, pod, client, source, plan, ep, rec);
    return;
  }
  const target = plan.target;
  const rec = newRecord(inputs, pod, {
    reporter: 'source', src: ep.src, dst: formatAddr(target.ip, target.port), source, sourcePrincipal,
    destination: plan.kind === 'tcp' ? plan.destinationWorkload : undefined,
    destinationService: plan.kind === 'tcp' ? plan.destinationService : undefined, securityPolicy: 'unknown',
  }, [client]);
  let upstream: Socket;
  try {
    // From inside the pod netns with the mark: source = pod IP, and the in-pod rules let it out unredirected.
    upstream = await connectSocketInNetns(pod.netnsFd, { host: target.ip, port: target.port, mark: inputs.packetMark });
  } catch (err) {
    recordRejected(rec, 'CONNECT', errMessage(err));
    client.resetAndDestroy();
    return;
  }
  upstream.setNoDelay(true);
  recordOpen(rec);
  relay(client, upstream, clientSideCounts(client), rec);
}

async function viaHbone(
  inputs: ProxyInputs, pod: PodContext, client: Socket, source: Workload,
  plan: Extract<OutboundPlan, { kind: 'hbone' }>, ep: Endpoints, rec: ConnectionRecord,
): Promise<void> {
  const identity = workloadIdentity(source, inputs.trustDomain);
  let tunnel: Duplex;
  try {
    const secureContext = await inputs.credentials.secureContext(identity);
    tunnel = await pod.pool.connect({
      key: {
        srcIdentity: formatSpiffeId(identity),
        dstIdentities: plan.expectedSans,
        nextHop: formatAddr(plan.nextHop.ip, plan.nextHop.port),
        srcIp: ep.srcIp,
      },
      authority: plan.authority,
      headers: {
        forwarded: formatForwarded(ep.srcIp, client.remotePort ?? 0, plan.destinationService?.hostname),
        baggage: formatBaggage({
          clusterId: source.clusterId || undefined,
          namespace: source.namespace,
          workloadKind: WORKLOAD_KINDS[source.workloadType],
          workloadName: source.workloadName || undefined,
          serviceName: source.canonicalName || undefined,
          serviceVersion: source.canonicalRevision || undefined,
        }),
      },
      tlsOptions: { secureContext, expectedSans: plan.expectedSans },
    });
  } catch (err) {
    const flag = err instanceof HboneConnectRefusedError && err.status === 401 ? 'DENY' : 'CONNECT';
    pod.logger.info({ src: ep.src, dst: ep.dst, err: errMessage(err) }, 'HBONE connect failed');
    recordRejected(rec, flag, errMessage(err));
    client.resetAndDestroy();
    return;
  }
  if (client.destroyed) {
    tunnel.destroy();
    rec.release();
    return;
  }
  recordOpen(rec);
  relay(client, tunnel, clientSideCounts(client), rec);
}

export function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
