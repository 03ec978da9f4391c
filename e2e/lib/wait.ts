export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class WaitTimeoutError extends Error {
  readonly code = 'E2E_WAIT_TIMEOUT';
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Says what was awaited, for the failure message. */
  what: string;
}

/**
 * Polls until `check` returns a value other than undefined/false; every wait in the suite is bounded so a
 * broken component fails the test in seconds instead of hanging the run. The last observation is in the error.
 */
export async function waitFor<T>(check: () => Promise<T | undefined | false>, opts: WaitOptions): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new WaitTimeoutError(`timed out after ${opts.timeoutMs} ms waiting for ${opts.what}; last observation: ${detail}`);
    }
    await sleep(opts.intervalMs ?? 300);
  }
}
