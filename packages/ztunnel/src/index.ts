// Public entry of @mesh/ztunnel (the parts other modules of the app wire together).
export * from './state/index';
export * from './rbac/index';
export * from './proxy/decision/index';
export {
  buildTcpLabels,
  TcpLabelCache,
  TCP_LABEL_NAMES,
  UNKNOWN_LABEL,
  NO_RESPONSE_FLAGS,
  type TcpLabels,
  type TcpLabelName,
  type TcpLabelInput,
  type Reporter,
  type SecurityPolicy,
} from './metrics/labels';
