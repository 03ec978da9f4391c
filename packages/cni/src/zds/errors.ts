import { defineMeshError } from '@mesh/core';

/** No ztunnel is connected to the ZDS socket, so a pod cannot be handed over (Istio: "no ztunnel connection"). */
export const ZdsNoZtunnelError = defineMeshError(
  'ZDS_NO_ZTUNNEL',
  'ZdsNoZtunnelError',
  (d: { socketPath: string }) => `no ztunnel is connected to ${d.socketPath}; is the ztunnel pod running on this node with INPOD_UDS pointing there?`,
);

/** ztunnel answered with Ack.error (it could not set up the pod's proxies). */
export const ZdsNackError = defineMeshError(
  'ZDS_NACK',
  'ZdsNackError',
  (d: { uid: string; reason: string }) => `ztunnel rejected workload ${d.uid}: ${d.reason}; check the ztunnel logs`,
);

export const ZdsAckTimeoutError = defineMeshError(
  'ZDS_ACK_TIMEOUT',
  'ZdsAckTimeoutError',
  (d: { what: string; timeoutMs: number }) => `ztunnel did not acknowledge ${d.what} within ${d.timeoutMs} ms; is it overloaded or stuck?`,
);

export const ZdsConnectionClosedError = defineMeshError(
  'ZDS_CONNECTION_CLOSED',
  'ZdsConnectionClosedError',
  (d: { what: string }) => `the ztunnel connection closed before ${d.what} was acknowledged`,
);

/** ztunnel broke the protocol (no hello, undecodable message, unexpected fds or message). */
export const ZdsProtocolError = defineMeshError(
  'ZDS_PROTOCOL',
  'ZdsProtocolError',
  (d: { reason: string }) => `ztunnel protocol error: ${d.reason}`,
);
