export { Drain } from './drain';
export type { DrainResult, DrainTimers } from './drain';
export { onShutdownSignal } from './signals';
export type { ShutdownOptions, SignalSource } from './signals';
