import type { CaptureResult, ClusterDriver } from '../drivers/types';
import { HBONE_PORT, type K8sObject } from './manifests';
import { fmt, httpGet, httpOk, type HttpOutcome } from './traffic';
import { waitFor } from './wait';

/** Bound for config to reach the data plane (istiod push + ztunnel apply); Istio converges in well under this. */
export const PROPAGATION_TIMEOUT_MS = 15_000;

/** Applies objects; the returned cleanup deletes them in reverse order and never throws (for afterAll). */
export async function deploy(d: ClusterDriver, objects: K8sObject[]): Promise<() => Promise<void>> {
  await d.apply(objects);
  return async () => {
    await d.delete([...objects].reverse()).catch((e: unknown) => console.error('e2e cleanup failed:', e));
  };
}

/** Polls until a request succeeds: pods and workload state are ready. */
export async function waitHttpOk(d: ClusterDriver, ns: string, pod: string, url: string, timeoutMs = PROPAGATION_TIMEOUT_MS): Promise<HttpOutcome> {
  let last: HttpOutcome | undefined;
  try {
    return await waitFor(
      async () => {
        last = await httpGet(d, ns, pod, url);
        return httpOk(last) ? last : undefined;
      },
      { timeoutMs, what: `${ns}/${pod} -> ${url} to answer 200` },
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}; last: ${last ? fmt(last) : 'none'}`);
  }
}

/** tcpdump -nn prints `a.b.c.d.PORT`; true when `port` is the source or destination of a packet line. */
export function linesWithPort(cap: CaptureResult, port: number): string[] {
  const re = new RegExp(`\\.${port}(?:[ :>]|$)`);
  return cap.lines.filter((l) => re.test(l.replace(/^\S+\s+IP6?\s+/, '')));
}

export function hboneLines(cap: CaptureResult): string[] {
  return linesWithPort(cap, HBONE_PORT);
}

export function containsMarker(cap: CaptureResult, marker: string): boolean {
  return cap.raw.includes(Buffer.from(marker, 'latin1'));
}
