import { EventEmitter } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Drain } from './drain';
import { onShutdownSignal } from './signals';

describe('Drain', () => {
  it('finishes at once with nothing in flight and aborts the signal', async () => {
    const d = new Drain();
    expect(d.draining).toBe(false);
    expect(await d.start(1000)).toEqual({ forced: false, remaining: 0 });
    expect(d.signal.aborted).toBe(true);
  });

  it('waits for in-flight work that ends before the deadline', async () => {
    const d = new Drain();
    const release = d.track();
    const forced: number[] = [];
    d.onForce(() => forced.push(1));
    const done = d.start(5_000);
    expect(d.draining).toBe(true);
    setTimeout(release, 20);
    expect(await done).toEqual({ forced: false, remaining: 0 });
    expect(forced).toEqual([]);
  });

  it('forces at the deadline, closing real sockets', async () => {
    const d = new Drain();
    const sockets = new Set<Socket>();
    const server = createServer((s) => {
      sockets.add(s);
      const release = d.track();
      s.on('close', release);
    });
    d.signal.addEventListener('abort', () => server.close());
    d.onForce(() => sockets.forEach((s) => s.destroy()));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const client = connect(port, '127.0.0.1');
    const clientClosed = new Promise((r) => client.on('close', r));
    client.on('error', () => undefined);
    await new Promise((r) => client.on('connect', r));
    while (d.inFlight === 0) await new Promise((r) => setTimeout(r, 5));
    const started = Date.now();
    const result = await d.start(50);
    expect(result).toEqual({ forced: true, remaining: 1 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    await clientClosed;
    while (d.inFlight > 0) await new Promise((r) => setTimeout(r, 5));
    expect(server.listening).toBe(false);
  });

  it('release is idempotent and start is idempotent', async () => {
    const d = new Drain();
    const r1 = d.track();
    d.track()();
    r1();
    r1();
    expect(d.inFlight).toBe(0);
    expect(d.start(10)).toBe(d.start(99));
  });
});

describe('onShutdownSignal', () => {
  it('runs shutdown once and exits 0; a second signal exits 1 at once', async () => {
    const source = new EventEmitter();
    const exits: number[] = [];
    let finish: () => void = () => undefined;
    const seen: string[] = [];
    onShutdownSignal(
      (sig) => {
        seen.push(sig);
        return new Promise<void>((r) => (finish = r));
      },
      { source: source as never, exit: (c) => exits.push(c) },
    );
    source.emit('SIGTERM', 'SIGTERM');
    expect(seen).toEqual(['SIGTERM']);
    source.emit('SIGINT', 'SIGINT');
    expect(exits).toEqual([1]);
    finish();
    await new Promise((r) => setImmediate(r));
    expect(exits).toEqual([1, 0]);
  });

  it('exits 1 when shutdown fails and unregisters', async () => {
    const source = new EventEmitter();
    const exits: number[] = [];
    const errors: unknown[] = [];
    const off = onShutdownSignal(() => Promise.reject(new Error('x')), {
      source: source as never,
      exit: (c) => exits.push(c),
      onError: (e) => errors.push(e),
    });
    source.emit('SIGTERM', 'SIGTERM');
    await new Promise((r) => setImmediate(r));
    expect(exits).toEqual([1]);
    expect(errors).toHaveLength(1);
    off();
    expect(source.listenerCount('SIGTERM')).toBe(0);
  });
});
