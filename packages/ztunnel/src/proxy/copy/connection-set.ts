// Live connections of one pod (or of the whole proxy), so a ZDS Del or the drain deadline can close them.
// Istio drops a deleted pod's connections at once (Z:src/inpod/statemanager.rs); here the same.
export interface Closable {
  destroy(): void;
}

export class ConnectionSet {
  private readonly live = new Set<Closable>();

  get size(): number {
    return this.live.size;
  }

  /** Returns the release function the relay calls when the connection ends. */
  add(...parts: Closable[]): () => void {
    const entry: Closable = { destroy: () => parts.forEach((p) => p.destroy()) };
    this.live.add(entry);
    return () => this.live.delete(entry);
  }

  destroyAll(): void {
    for (const c of [...this.live]) c.destroy();
    this.live.clear();
  }
}
