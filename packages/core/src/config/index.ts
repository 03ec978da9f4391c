export { str, int, bool, duration, enumOf, list, parseDurationMs } from './types';
export type { VarSpec, CommonOptions, IntOptions, DurationOptions, DurationUnit, ListOptions } from './types';
export { defineConfig, mergeConfig, listVars, renderHelp } from './registry';
export type { ConfigRegistry, ConfigValues, VarSpecs, VarInfo, EnvSource } from './registry';
