// Public entry of @mesh/ztunnel. The app is normally run as a process (dist/ztunnel.mjs); this entry serves
// its tests and tools: the app and its config, the xDS-fed state, RBAC, the outbound/inbound decisions, metrics.
export {
  ZtunnelApp,
  ztunnelConfig,
  ztunnelFromConfig,
  dumpState,
  meshDecider,
  meshInboundResolver,
  meshAuthorizer,
  grpcTarget,
  nodeId,
  RootCertUnreadableError,
  type AppState,
  type ZtunnelAppOptions,
  type ZtunnelConfig,
  type ConfiguredZtunnel,
  type MeshDeciderOptions,
} from './app/index';
export * from './state/index';
export * from './rbac/index';
export * from './proxy/decision/index';
export {
  ProxyMetrics,
  buildTcpLabels,
  TcpLabelCache,
  TCP_LABEL_NAMES,
  UNKNOWN_LABEL,
  NO_RESPONSE_FLAGS,
  type TcpLabels,
  type TcpLabelName,
  type TcpLabelInput,
  type Reporter,
  type ResponseFlag,
  type SecurityPolicy,
} from './metrics/index';
