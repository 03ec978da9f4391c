// The per-exchange "client gone or response complete" signal. A minimal subset of AbortSignal's interface
// (which AbortSignal itself satisfies, so tests and mirrors may pass one): Node's EventTarget-based
// AbortController cost ~6% of the waypoint's CPU as one per request plus a listener per try.
import type { CancelSignal } from '../upstream/index';

export type { CancelSignal };

export class DoneSignal implements CancelSignal {
  private done = false;
  private listeners: (() => void)[] | undefined;

  get aborted(): boolean {
    return this.done;
  }

  /** Listeners run once, at abort(); `once` is implied. */
  addEventListener(_type: 'abort', listener: () => void): void {
    (this.listeners ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const l = this.listeners;
    if (l === undefined) return;
    const i = l.lastIndexOf(listener);
    if (i >= 0) l.splice(i, 1);
  }

  abort(): void {
    if (this.done) return;
    this.done = true;
    const l = this.listeners;
    this.listeners = undefined;
    if (l !== undefined) for (const fn of l) fn();
  }
}
