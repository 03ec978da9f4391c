// Outbound (15001 inside the pod): the app's connection was REDIRECTed here; recover the original
// destination, decide where it goes, and carry it there (Z:src/proxy/outbound.rs).
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { fdOf, getOriginalDst } from '@mesh/netns';
import { formatBaggage, formatForwarded, HboneConnectRefusedError, type WorkloadKind } from '@mesh/hbone';
import { isMeshError } from '@mesh/core';
import { formatSpiffeId } from '@mesh/identity';
import type { Workload } from '@mesh/api';
import { clientSideCounts, recordOpen, recordRejected, relay, type ConnectionRecord } from '../copy/index';
import { ILLEGAL_PORTS, workloadIdentity, type PodContext, type ProxyInputs } from '../context';
import { formatAddr, isLoopbackIp, plainIp } from '../addr';
import { newRecord } from '../record';
import { serviceRef } from '../decision/index';
import type { OutboundPlan } from '../types';
import { resolveNextHop } from './dns';

const WORKLOAD_KINDS: readonly WorkloadKind[] = ['deployment', 'cronjob', 'pod', 'job'];

// Workload objects are replaced (never mutated) by the state store on every xDS update, so the baggage of a
// source workload can be computed once per object and dropped with it.
const baggageBySource = new WeakMap<Workload, string>();

function sourceBaggage(source: Workload): string {
  let baggage = baggageBySource.get(source);
  if (baggage === undefined) {
    baggage = formatBaggage({
      clusterId: source.clusterId || undefined,
      namespace: source.namespace,
      workloadKind: WORKLOAD_KINDS[source.workloadType],
      workloadName: source.workloadName || undefined,
      serviceName: source.canonicalName || undefined,
      serviceVersion: source.canonicalRevision || undefined,
    });
    baggageBySource.set(source, baggage);
  }
  return baggage;
}

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
  const ep: Endpoints = { src, dst: formatAddr(dstIp, orig.port), srcIp };
  let plan: OutboundPlan;
  try {
    plan = inputs.decide({ source, sourceIp: srcIp, destination: { ip: dstIp, port: orig.port } });
  } catch (err) {
    refuseUndecided(inputs, pod, client, source, dstIp, ep, err);
    return;
  }
  await execute(inputs, pod, client, source, plan, ep);
}

interface Endpoints {
  src: string;
  dst: string;
  srcIp: string;
}

/**
 * The decision refused the connection (NoHealthyUpstream, SelfCall, unknown waypoint...). ztunnel logs these as
 * early denies; we also count them in istio_tcp_connections_failed_total (flag CONNECT) so an empty Service is
 * visible on dashboards, labelled with the addressed Service when there is one.
 */
function refuseUndecided(inputs: ProxyInputs, pod: PodContext, client: Socket, source: Workload, dstIp: string, ep: Endpoints, err: unknown): void {
  const svc = inputs.state.serviceByVip(source.network, dstIp);
  const rec = newRecord(inputs, pod, {
    reporter: 'source', src: ep.src, dst: ep.dst, source, securityPolicy: 'unknown',
    destinationService: svc === undefined ? undefined : serviceRef(svc),
  }, [client]);
  const code = isMeshError(err) ? err.code : 'UNKNOWN';
  rec.accessLog.info({ code }, 'outbound connection refused by the destination decision');
  recordRejected(rec, 'CONNECT', errMessage(err));
  client.resetAndDestroy();
}

async function execute(inputs: ProxyInputs, pod: PodContext, client: Socket, source: Workload, plan: OutboundPlan, ep: Endpoints): Promise<void> {
  const common = { reporter: 'source' as const, src: ep.src, source, destination: plan.dstWorkload, destinationService: plan.dstService };
  if (plan.kind === 'hbone') {
    const rec = newRecord(inputs, pod, {
      ...common, dst: ep.dst, hboneAddr: formatAddr(plan.nextHop.ip, plan.nextHop.port), securityPolicy: 'mutual_tls',
    }, [client]);
    await viaHbone(inputs, pod, client, source, plan, ep, rec);
    return;
  }
  let target = plan.nextHop;
  // A hostname-only workload (DNS ServiceEntry endpoint): resolved now, as ztunnel's resolve_on_demand_dns; a
  // failed lookup is a connect failure like any other (its access line names the hostname).
  let lookupFailure: unknown;
  if (plan.dns !== undefined) {
    try {
      target = await resolveNextHop(inputs.hostResolver, target, plan.dns);
    } catch (err) {
      lookupFailure = err;
    }
  }
  const rec = newRecord(inputs, pod, { ...common, dst: formatAddr(target.ip, target.port), securityPolicy: 'unknown' }, [client]);
  let upstream: Socket;
  try {
    if (lookupFailure !== undefined) throw lookupFailure;
    // From inside the pod netns with the mark: source = pod IP, and the in-pod rules let it out unredirected.
    upstream = await pod.sockets.connectSocket({
      host: target.ip, port: target.port, mark: inputs.packetMark, allowHalfOpen: true,
    });
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
  plan: OutboundPlan, ep: Endpoints, rec: ConnectionRecord,
): Promise<void> {
  const identity = workloadIdentity(source, inputs.trustDomain);
  const expectedSans = plan.expectedSans ?? [];
  let tunnel: Duplex;
  try {
    const secureContext = await inputs.credentials.secureContext(identity);
    tunnel = await pod.pool.connect({
      key: {
        srcIdentity: formatSpiffeId(identity),
        dstIdentities: expectedSans,
        nextHop: formatAddr(plan.nextHop.ip, plan.nextHop.port),
        srcIp: ep.srcIp,
      },
      authority: plan.authority ?? formatAddr(plan.nextHop.ip, plan.nextHop.port),
      headers: {
        forwarded: formatForwarded(ep.srcIp, client.remotePort ?? 0, plan.dstService?.hostname),
        baggage: sourceBaggage(source),
      },
      tlsOptions: { secureContext, expectedSans },
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
