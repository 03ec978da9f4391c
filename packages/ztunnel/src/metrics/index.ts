export { ProxyMetrics } from './proxy-metrics';
export type { Tally } from './proxy-metrics';
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
  type ResponseFlag,
  type SecurityPolicy,
} from './labels';
