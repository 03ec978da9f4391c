// Test-only: a minimal Chrome DevTools Protocol client for the Node inspector of a process started with
// `--inspect=127.0.0.1:0`, enough to run code inside one of its worker threads (NodeWorker domain). It speaks
// just the WebSocket subset the inspector uses: unfragmented text frames, masked from client to server.
import crypto from 'node:crypto';
import http from 'node:http';
import type { Duplex } from 'node:stream';

type Listener = (method: string, params: Record<string, unknown>) => void;

interface CdpMessage { id?: number; method?: string; params?: Record<string, unknown>; result?: unknown; error?: { message: string } }

export interface AttachedWorker {
  sessionId: string;
  /** The worker's `worker_threads.threadId` (from the title "[worker <threadId>]"; CDP's workerId is only a counter). */
  threadId: number;
}

export class InspectorClient {
  private nextId = 1;
  private buf = Buffer.alloc(0);
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Set<Listener>();

  private constructor(private readonly socket: Duplex, head: Buffer) {
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      for (const p of this.pending.values()) p.reject(new Error('inspector connection closed'));
      this.pending.clear();
    });
    if (head.length > 0) this.onData(head);
  }

  /** `url`: the `ws://127.0.0.1:<port>/<uuid>` node prints as "Debugger listening on ...". */
  static connect(url: string): Promise<InspectorClient> {
    return new Promise((resolve, reject) => {
      const req = http.request(url.replace(/^ws:/, 'http:'), {
        headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': crypto.randomBytes(16).toString('base64') },
      });
      req.once('upgrade', (_res, socket, head) => resolve(new InspectorClient(socket, head)));
      req.once('response', (res) => reject(new Error(`inspector refused the WebSocket upgrade: HTTP ${res.statusCode}`)));
      req.once('error', reject);
      req.end();
    });
  }

  send<R = unknown>(method: string, params: Record<string, unknown> = {}): Promise<R> {
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.write(JSON.stringify({ id, method, params }));
    });
  }

  /** Attaches to the running worker threads; resolves once `count` of them are attached. */
  async attachWorkers(count: number): Promise<AttachedWorker[]> {
    const attached: AttachedWorker[] = [];
    const all = new Promise<AttachedWorker[]>((resolve) => {
      const listener: Listener = (method, params) => {
        if (method !== 'NodeWorker.attachedToWorker') return;
        const title = (params.workerInfo as { title: string }).title;
        attached.push({ sessionId: params.sessionId as string, threadId: Number(/^\[worker (\d+)\]/.exec(title)?.[1] ?? NaN) });
        if (attached.length === count) {
          this.listeners.delete(listener);
          resolve(attached);
        }
      };
      this.listeners.add(listener);
    });
    await this.send('NodeWorker.enable', { waitForDebuggerOnStart: false });
    return all;
  }

  /** Runtime.evaluate inside an attached worker; resolves with the worker's reply (CDP result object). */
  evaluateInWorker(sessionId: string, expression: string): Promise<unknown> {
    const reply = new Promise<unknown>((resolve) => {
      const listener: Listener = (method, params) => {
        if (method !== 'NodeWorker.receivedMessageFromWorker' || params.sessionId !== sessionId) return;
        const m = JSON.parse(params.message as string) as CdpMessage;
        if (m.id !== 1) return;
        this.listeners.delete(listener);
        resolve(m.result ?? m.error);
      };
      this.listeners.add(listener);
    });
    const message = JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression } });
    return this.send('NodeWorker.sendMessageToWorker', { sessionId, message }).then(() => reply);
  }

  /** Disconnects; a process exiting with a session attached waits for it ("Waiting for the debugger to disconnect"). */
  close(): void {
    this.socket.end(Buffer.from([0x88, 0x80, 0, 0, 0, 0])); // masked close frame, empty payload
    this.socket.destroy();
  }

  private write(text: string): void {
    const payload = Buffer.from(text);
    const len = payload.length;
    const header = len < 126 ? Buffer.from([0x81, 0x80 | len])
      : len < 65536 ? Buffer.from([0x81, 0x80 | 126, len >> 8, len & 0xff])
        : Buffer.concat([Buffer.from([0x81, 0x80 | 127]), bigEndian64(len)]);
    const mask = crypto.randomBytes(4);
    for (let i = 0; i < len; i++) payload[i]! ^= mask[i % 4]!;
    this.socket.write(Buffer.concat([header, mask, payload]));
  }

  private onData(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      if (this.buf.length < 2) return;
      const opcode = this.buf[0]! & 0x0f;
      let len = this.buf[1]! & 0x7f;
      let offset = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        offset = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        offset = 10;
      }
      if (this.buf.length < offset + len) return;
      const payload = this.buf.subarray(offset, offset + len);
      this.buf = this.buf.subarray(offset + len);
      if (opcode === 1) this.onMessage(JSON.parse(payload.toString()) as CdpMessage);
    }
  }

  private onMessage(m: CdpMessage): void {
    if (m.id !== undefined) {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.error) p?.reject(new Error(`inspector: ${m.error.message}`));
      else p?.resolve(m.result);
      return;
    }
    if (m.method) for (const l of [...this.listeners]) l(m.method, m.params ?? {});
  }
}

function bigEndian64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}
