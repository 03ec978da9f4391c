import { describe, expect, it } from 'vitest';
import { captureLogger } from '../testing/log-capture';
import { KeyedQueue } from './keyed-queue';

describe('KeyedQueue', () => {
  it('handles a key queued many times once, and tells a handler in flight that the queue stopped', async () => {
    const seen: string[] = [];
    let release: (() => void) | undefined;
    let stoppedAfterAwait: boolean | undefined;
    const queue = new KeyedQueue({
      minIntervalMs: 0, logger: captureLogger().logger,
      handle: async (key, run) => {
        seen.push(key);
        expect(run.stopped).toBe(false);
        await new Promise<void>((r) => (release = r));
        stoppedAfterAwait = run.stopped;
      },
    });
    queue.add('a');
    queue.add('b');
    queue.add('b');
    await new Promise((r) => setTimeout(r, 5));
    queue.stop();
    release!();
    await queue.idle();
    expect(stoppedAfterAwait).toBe(true);
    expect(seen).toEqual(['a']);
    queue.add('c');
    await queue.idle();
    expect(seen).toEqual(['a']);
  });
});
