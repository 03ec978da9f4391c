import { workload, type ServicePort } from '@mesh/api';

const GRPC_WEB = 'grpc-web';

/**
 * Istio's protocol.Parse restricted to what WDS can express: HTTP -> HTTP11, HTTP2 (incl. Kubernetes
 * `kubernetes.io/h2c`), GRPC; everything else is UNKNOWN (I:pilot/pkg/serviceregistry/ambient toAppProtocolFromProtocol).
 */
export function appProtocolFromName(name: string | undefined): workload.AppProtocol {
  switch ((name ?? '').toLowerCase()) {
    case 'http':
    case 'kubernetes.io/ws':
      return workload.AppProtocol.HTTP11;
    case 'http2':
    case 'kubernetes.io/h2c':
      return workload.AppProtocol.HTTP2;
    case 'grpc':
      return workload.AppProtocol.GRPC;
    default:
      return workload.AppProtocol.UNKNOWN;
  }
}

/** kube.ConvertProtocol: UDP wins, appProtocol over the port name, `<proto>-suffix` name prefixes. */
export function appProtocolFromKube(port: ServicePort): workload.AppProtocol {
  if (port.protocol === 'UDP') return workload.AppProtocol.UNKNOWN;
  let name = port.appProtocol ?? port.name ?? '';
  if (name.toLowerCase().startsWith(GRPC_WEB)) return workload.AppProtocol.UNKNOWN;
  const dash = name.indexOf('-');
  if (dash >= 0) name = name.slice(0, dash);
  // Well-known ports (25, 53, 3306, 27017) parse as TCP in Istio, which WDS sends as UNKNOWN anyway.
  return appProtocolFromName(name);
}
