// Request/response over a worker_threads port, in both directions (main <-> data-path worker). Messages are
// structured clones; an error crosses as { message, code } and is rebuilt as a WorkerRequestError.
import { WorkerRequestError } from './errors';

/** The part of a Worker / MessagePort this needs. */
export interface RpcEndpoint {
  postMessage(value: unknown): void;
  on(event: 'message', listener: (value: unknown) => void): unknown;
}

type Handler = (payload: never) => unknown;

interface RequestMessage { rpc: 'req'; id: number; op: string; payload: unknown }
interface ResponseMessage { rpc: 'res'; id: number; ok: boolean; value?: unknown; error?: { message: string; code?: string } }
interface PushMessage { rpc: 'push'; op: string; payload: unknown }
type RpcMessage = RequestMessage | ResponseMessage | PushMessage;

export class RpcPort {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; op: string }>();
  private readonly handlers = new Map<string, Handler>();
  private failure: Error | undefined;

  constructor(private readonly port: RpcEndpoint, private readonly peer: string) {
    port.on('message', (m) => this.onMessage(m as RpcMessage));
  }

  /** Serves `op` (requests and pushes). A handler's result or rejection is the reply. */
  handle<P, R>(op: string, fn: (payload: P) => R | Promise<R>): void {
    this.handlers.set(op, fn as Handler);
  }

  request<R>(op: string, payload: unknown): Promise<R> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, op });
      this.port.postMessage({ rpc: 'req', id, op, payload } satisfies RequestMessage);
    });
  }

  /** Fire and forget (certificate rotations). */
  push(op: string, payload: unknown): void {
    if (!this.failure) this.port.postMessage({ rpc: 'push', op, payload } satisfies PushMessage);
  }

  /** The peer is gone: every pending and later request fails with `err`. */
  fail(err: Error): void {
    this.failure = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private onMessage(m: RpcMessage): void {
    if (m.rpc === 'res') {
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new WorkerRequestError({ peer: this.peer, op: p.op, reason: m.error?.message ?? 'unknown error', remoteCode: m.error?.code ?? '' }));
      return;
    }
    const handler = this.handlers.get(m.op);
    if (m.rpc === 'push') {
      handler?.(m.payload as never);
      return;
    }
    const reply = (r: Omit<ResponseMessage, 'rpc' | 'id'>): void => this.port.postMessage({ rpc: 'res', id: m.id, ...r });
    if (handler === undefined) {
      reply({ ok: false, error: { message: `no handler for ${m.op}` } });
      return;
    }
    Promise.resolve()
      .then(() => handler(m.payload as never))
      .then(
        (value) => reply({ ok: true, value }),
        (err: unknown) => reply({ ok: false, error: err instanceof Error ? { message: err.message, code: (err as { code?: string }).code } : { message: String(err) } }),
      );
  }
}
