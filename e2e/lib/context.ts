import { inject } from 'vitest';
import { driverFor } from '../drivers';
import type { ClusterDriver, NodeInfo } from '../drivers/types';
import type { E2eContext } from './config';

export interface Suite {
  ctx: E2eContext;
  skipReason: string | undefined;
  driver: ClusterDriver;
}

export function suite(): Suite {
  const ctx = inject('e2e');
  return { ctx, skipReason: ctx.skipReason, driver: driverFor(ctx) };
}

/** Two distinct nodes: scenarios put client and server apart so traffic crosses the node link. */
export async function twoNodes(d: ClusterDriver): Promise<[NodeInfo, NodeInfo]> {
  const nodes = await d.nodes();
  const [a, b] = nodes;
  if (!a || !b) throw new Error(`the e2e scenarios need 2 nodes, cluster ${d.cluster} has ${nodes.length}`);
  return [a, b];
}

/** Unique per file and run, so a leftover from a crashed run never collides. */
export function nsName(base: string): string {
  return `${base}-${(Date.now() % 1_000_000).toString(36)}`;
}
