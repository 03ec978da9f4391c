import { create, fromBinary, toBinary, zds, type WorkloadRequest } from '@mesh/api';
import { closeFd, netnsInode, SeqpacketSocket } from '@mesh/netns';

/** One request as the fake ztunnel saw it; `inode` is the netns inode of the passed fd, if any. */
export interface ReceivedRequest {
  readonly req: WorkloadRequest;
  readonly kind: WorkloadRequest['payload']['case'];
  readonly uid: string;
  readonly fdCount: number;
  readonly inode: number | undefined;
}

/**
 * A test stand-in for ztunnel's ZDS client (Z:src/inpod/workloadmanager.rs): connects, says hello,
 * records every request, and answers each with an Ack whose error `answer` decides ('' = ACK).
 */
export class FakeZtunnel {
  readonly received: ReceivedRequest[] = [];
  answer: (r: ReceivedRequest) => string | null = () => '';
  readonly socket: SeqpacketSocket;
  #waiters: { pred: (all: readonly ReceivedRequest[]) => boolean; resolve: () => void }[] = [];
  #closed = false;

  private constructor(socket: SeqpacketSocket) {
    this.socket = socket;
    socket.on('message', (m) => {
      let inode: number | undefined;
      for (const fd of m.fds) {
        inode = netnsInode(fd);
        closeFd(fd);
      }
      const req = fromBinary(zds.WorkloadRequestSchema, m.data);
      const p = req.payload;
      const uid = p.case === 'add' || p.case === 'del' || p.case === 'keep' ? p.value.uid : '';
      const rec: ReceivedRequest = { req, kind: p.case, uid, fdCount: m.fds.length, inode };
      this.received.push(rec);
      const error = this.answer(rec);
      // null = stay silent (tests the agent's ack timeout).
      if (error !== null && !socket.closed) this.ack(error);
      this.#check();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#check();
    });
    socket.on('error', () => undefined);
  }

  static connect(path: string, hello = true): FakeZtunnel {
    const z = new FakeZtunnel(SeqpacketSocket.connect(path));
    if (hello) z.sendHello();
    return z;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends an Ack by hand (after `answer` returned null). */
  ack(error = ''): void {
    this.socket.send(toBinary(zds.WorkloadResponseSchema, create(zds.WorkloadResponseSchema, { payload: { case: 'ack', value: { error } } })));
  }

  sendHello(version = zds.Version.V1): void {
    this.socket.send(toBinary(zds.ZdsHelloSchema, create(zds.ZdsHelloSchema, { version })));
  }

  /** Resolves once `pred` holds for everything received so far (or the socket closed, for 'closed'). */
  waitFor(pred: (all: readonly ReceivedRequest[]) => boolean, timeoutMs = 5_000): Promise<void> {
    if (pred(this.received)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fake ztunnel: condition not met in ${timeoutMs} ms; got ${this.summary()}`)), timeoutMs);
      this.#waiters.push({
        pred,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  waitForSnapshot(): Promise<void> {
    return this.waitFor((all) => all.some((r) => r.kind === 'snapshotSent'));
  }

  waitClosed(timeoutMs = 5_000): Promise<void> {
    return this.waitFor(() => this.#closed, timeoutMs);
  }

  summary(): string {
    return JSON.stringify(this.received.map((r) => `${r.kind}:${r.uid}:${r.fdCount}`));
  }

  close(): void {
    this.socket.close();
  }

  #check(): void {
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.pred(this.received)) return true;
      w.resolve();
      return false;
    });
  }
}
