// Which HTTP version the waypoint speaks to a service port, from Istio's protocol selection: the explicit
// protocol (Service appProtocol, carried as HTTP/HTTP2/GRPC) first, else the port name's prefix
// ("grpc-api", "http2"). HTTP2 and GRPC ports get h2c upstream (Envoy's http2_protocol_options); everything
// else HTTP/1.1 unless DestinationRule/mesh h2UpgradePolicy upgrades it (config/h2-upgrade.ts).
import { workload } from '@mesh/api';

export type UpstreamHttpVersion = 'http1' | 'http2';

function fromProtocol(protocol: string): UpstreamHttpVersion | undefined {
  const p = protocol.toUpperCase();
  if (p === 'HTTP2' || p === 'GRPC') return 'http2';
  if (p === 'HTTP' || p === 'HTTP11' || p === 'GRPC-WEB') return 'http1';
  return undefined;
}

/** undefined when neither the protocol nor the name says (an auto-detected port). */
export function portHttpVersion(protocol: string | undefined, name: string | undefined): UpstreamHttpVersion | undefined {
  const byProtocol = protocol === undefined || protocol === '' ? undefined : fromProtocol(protocol);
  if (byProtocol !== undefined) return byProtocol;
  const n = (name ?? '').toLowerCase();
  if (n.startsWith('grpc-web')) return 'http1';
  return fromProtocol(n.split('-')[0] ?? '');
}

/** The WDS Service port's appProtocol in the same vocabulary ('' when unset). */
export function appProtocolName(p: workload.AppProtocol): string {
  if (p === workload.AppProtocol.HTTP11) return 'HTTP';
  if (p === workload.AppProtocol.HTTP2) return 'HTTP2';
  if (p === workload.AppProtocol.GRPC) return 'GRPC';
  if (p === workload.AppProtocol.TCP) return 'TCP';
  return '';
}
