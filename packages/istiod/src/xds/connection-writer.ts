import { SMALL_PUSH_NAMES, type ReleaseFn, type SendBudget } from './send-budget';

/** Writes one encoded response to the stream; `done` runs once the transport took it (or the stream died). */
export type WriteFn = (bytes: Buffer, done: () => void) => void;

/**
 * One connection's way out: admits large pushes through the server-wide SendBudget and holds the budget
 * of each written response until grpc-js/HTTP/2 has taken it. Closing releases whatever is still held,
 * since a dead stream may never call back.
 */
export class ConnectionWriter {
  private readonly held = new Set<ReleaseFn>();
  private parked = false;

  constructor(
    private readonly budget: SendBudget,
    private readonly write: WriteFn,
  ) {}

  /**
   * True when a push reconciling about `names` names may be built now. Otherwise false, and `retry` runs
   * once budget frees up (pending changes stay marked, so the retry builds from the latest snapshot).
   */
  admit(names: number, retry: () => void): boolean {
    if (names <= SMALL_PUSH_NAMES || this.budget.available()) return true;
    if (!this.parked) {
      this.parked = true;
      this.budget.wait(() => {
        this.parked = false;
        retry();
      });
    }
    return false;
  }

  send(bytes: Buffer): void {
    const release = this.budget.acquire(bytes.byteLength);
    this.held.add(release);
    this.write(bytes, () => {
      this.held.delete(release);
      release();
    });
  }

  close(): void {
    for (const release of this.held) release();
    this.held.clear();
  }
}
