import type { E2eContext } from '../lib/config';
import { KindDriver } from './kind';
import { LocalDriver } from './local';
import type { ClusterDriver } from './types';

export function driverFor(ctx: E2eContext): ClusterDriver {
  if (ctx.driver === 'kind') return new KindDriver({ cluster: ctx.cluster });
  return new LocalDriver({ cluster: ctx.cluster, meshctl: ctx.meshctl, nodes: ctx.nodes, componentEnv: ctx.componentEnv });
}

export { KindDriver } from './kind';
export { LocalDriver } from './local';
export type * from './types';
