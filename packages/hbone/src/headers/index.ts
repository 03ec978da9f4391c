export { formatForwarded, parseForwarded } from './forwarded';
export type { ForwardedInfo } from './forwarded';
export { newTraceparent, formatTraceparent, parseTraceparent } from './traceparent';
export type { TraceParent } from './traceparent';
export { formatBaggage, parseBaggage } from './baggage';
export type { BaggageInfo, WorkloadKind } from './baggage';
