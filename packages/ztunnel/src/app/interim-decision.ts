// INTERIM until src/proxy/decision is wired: workload-addressed decisions only (no Service VIP load
// balancing, no waypoints). HBONE to a captured workload's IP:15008, else passthrough; inbound accepts IP
// authorities equal to the local IP (Istio's IPMismatch 400 otherwise) and hostname authorities as-is.
import { isIP } from 'node:net';
import { formatAuthority } from '@mesh/hbone';
import { formatSpiffeId } from '@mesh/identity';
import { workload } from '@mesh/api';
import { INBOUND_HBONE_PORT, workloadIdentity, type InboundResolver, type OutboundDecider, type ProxyState } from '../proxy/index';

export function interimDecider(state: ProxyState, network: string, trustDomain: string): OutboundDecider {
  return ({ destination }) => {
    const wl = state.workloadByAddress(network, destination.ip);
    if (wl === undefined || wl.tunnelProtocol !== workload.TunnelProtocol.HBONE) return { kind: 'passthrough', target: destination };
    return {
      kind: 'hbone',
      nextHop: { ip: destination.ip, port: INBOUND_HBONE_PORT },
      authority: formatAuthority(destination.ip, destination.port),
      expectedSans: [formatSpiffeId(workloadIdentity(wl, trustDomain))],
      destinationWorkload: wl,
    };
  };
}

export const interimInboundResolver: InboundResolver = ({ localIp, authorityHost, authorityPort }) =>
  isIP(authorityHost) !== 0 && authorityHost !== localIp
    ? { ok: false, status: 400, reason: `authority ${authorityHost} is not this pod's IP ${localIp}` }
    : { ok: true, port: authorityPort };
