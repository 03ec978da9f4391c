import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { canUseNetns, createTestNetns, openFdCount, type TestNetns } from '../test/netns-fixture';
import {
  closeFd,
  isNetnsFd,
  loadAddon,
  netnsInode,
  openNetns,
  SeqpacketServer,
  SeqpacketSocket,
  type SeqpacketMessage,
} from './index';

const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), `mesh-seqpacket-${process.pid}-`));
const opened: Array<SeqpacketSocket | SeqpacketServer> = [];

function track<T extends SeqpacketSocket | SeqpacketServer>(s: T): T {
  opened.push(s);
  return s;
}

function pair(maxMessageBytes?: number): [SeqpacketSocket, SeqpacketSocket] {
  const [a, b] = SeqpacketSocket.pair({ maxMessageBytes });
  return [track(a), track(b)];
}

function nextMessage(s: SeqpacketSocket): Promise<SeqpacketMessage> {
  return once(s, 'message').then(([m]) => m as SeqpacketMessage);
}

/** A FIFO opened read-write: a pipe fd Node can create without native help. */
function makePipeFd(name: string): { fd: number; file: string } {
  const file = path.join(tmpDir, name);
  execFileSync('mkfifo', [file]);
  return { fd: fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_NONBLOCK), file };
}

function fdsPointingAt(file: string): number {
  return fs.readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`) === file;
    } catch {
      return false;
    }
  }).length;
}

afterEach(() => {
  for (const s of opened.splice(0)) s.close();
});

afterAll(() => fs.rmSync(tmpDir, { recursive: true, force: true }));

describe('SeqpacketServer / SeqpacketSocket', () => {
  it('exchanges datagrams with message boundaries kept, then reports close to the peer', async () => {
    const sockPath = path.join(tmpDir, 'zds.sock');
    const server = track(SeqpacketServer.listen(sockPath));
    const accepted = once(server, 'connection').then(([s]) => track(s as SeqpacketSocket));
    const client = track(SeqpacketSocket.connect(sockPath));
    const peer = await accepted;
    const got: string[] = [];
    peer.on('message', (m) => got.push(m.data.toString()));
    client.send(Buffer.from('hello'));
    client.send(Buffer.from('world'));
    client.send(new Uint8Array(0));
    await until(() => got.length === 3);
    expect(got).toEqual(['hello', 'world', '']);
    const reply = nextMessage(client);
    peer.send(Buffer.from('ack'));
    expect((await reply).data.toString()).toBe('ack');
    const closed = once(peer, 'close');
    client.close();
    await closed;
    expect(peer.closed).toBe(true);
  });

  it('removes a stale socket file on listen and unlinks it on close', () => {
    const sockPath = path.join(tmpDir, 'stale.sock');
    track(SeqpacketServer.listen(sockPath)).close(); // leaves nothing behind
    expect(fs.existsSync(sockPath)).toBe(false);
    const fd = loadAddon().seqpacketListen(sockPath); // simulate a crashed previous owner
    closeFd(fd);
    expect(catchCode(() => SeqpacketSocket.connect(sockPath))).toBe('ECONNREFUSED');
    const server = track(SeqpacketServer.listen(sockPath));
    expect(fs.statSync(sockPath).isSocket()).toBe(true);
    server.close();
    expect(fs.existsSync(sockPath)).toBe(false);
  });

  it('names connect failures by errno', () => {
    expect(catchCode(() => SeqpacketSocket.connect(path.join(tmpDir, 'missing.sock')))).toBe('ENOENT');
    expect(catchCode(() => SeqpacketSocket.connect('x'.repeat(200)))).toBe('ENAMETOOLONG');
  });

  it('passes a pipe fd with SCM_RIGHTS; the received fd is a new close-on-exec fd for the same pipe', async () => {
    const [a, b] = pair();
    const pipe = makePipeFd('pipe1');
    try {
      const received = nextMessage(b);
      a.send(Buffer.from('fd'), [pipe.fd]);
      const msg = await received;
      expect(msg.fds).toHaveLength(1);
      const got = msg.fds[0]!;
      expect(got).not.toBe(pipe.fd);
      const flags = /flags:\s+(\d+)/.exec(fs.readFileSync(`/proc/self/fdinfo/${got}`, 'utf8'))?.[1];
      expect(parseInt(flags ?? '0', 8) & 0o2000000).not.toBe(0); // O_CLOEXEC
      fs.writeSync(got, 'through the passed fd');
      closeFd(got);
      const buf = Buffer.alloc(64);
      const n = fs.readSync(pipe.fd, buf);
      expect(buf.subarray(0, n).toString()).toBe('through the passed fd');
    } finally {
      fs.closeSync(pipe.fd);
    }
  });

  it('rejects more than 16 fds and non-buffer data with EINVAL', () => {
    const [a] = pair();
    const fds = Array.from({ length: 17 }, () => a.fd);
    expect(catchCode(() => a.send(Buffer.from('x'), fds))).toBe('EINVAL');
    expect(catchCode(() => loadAddon().sendMsg(a.fd, 'str' as unknown as Uint8Array))).toBe('EINVAL');
  });

  it('reports an oversized message as EMSGSIZE, closes the socket and the fds that came with it', async () => {
    const [a, b] = pair(1000);
    const pipe = makePipeFd('pipe2');
    try {
      b.on('message', () => expect.fail('a truncated message must not be delivered'));
      const failed = once(b, 'error');
      a.send(Buffer.alloc(2000, 7), [pipe.fd]);
      const [err] = (await failed) as [Error & { code?: string }];
      expect(err.code).toBe('EMSGSIZE');
      expect(b.closed).toBe(true);
      expect(fdsPointingAt(pipe.file)).toBe(1); // only our original
    } finally {
      fs.closeSync(pipe.fd);
    }
  });

  it('delivers arbitrary bytes unchanged and closes fds nobody listens for', async () => {
    const [a, b] = pair();
    const pipe = makePipeFd('pipe3');
    try {
      const garbage = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) & 0xff));
      const got = nextMessage(b);
      a.send(garbage);
      expect((await got).data.equals(garbage)).toBe(true);
      b.removeAllListeners('message');
      a.send(Buffer.from('unwanted'), [pipe.fd]);
      await new Promise((r) => setTimeout(r, 50)); // read while nobody listens
      const next = nextMessage(b);
      a.send(Buffer.from('sync'));
      expect((await next).data.toString()).toBe('sync'); // 'unwanted' was consumed...
      expect(fdsPointingAt(pipe.file)).toBe(1); // ...and its fd closed
    } finally {
      fs.closeSync(pipe.fd);
    }
  });

  it('queues under backpressure, emits drain, delivers in order and leaks no fds', async () => {
    const baseline = openFdCount();
    const [a, b] = pair();
    const pipe = makePipeFd('pipe4');
    const payload = Buffer.alloc(8192, 1);
    let queued = 0;
    for (let i = 0; i < 400 && queued === 0; i++) {
      payload.writeUInt32BE(i, 0);
      if (!a.send(payload, i % 50 === 0 ? [pipe.fd] : [])) queued = i;
    }
    expect(queued).toBeGreaterThan(0); // the socket buffer filled up
    for (let i = queued + 1; i < queued + 20; i++) {
      payload.writeUInt32BE(i, 0);
      expect(a.send(payload, [pipe.fd])).toBe(false);
    }
    fs.closeSync(pipe.fd); // queued messages own duplicates, so this must not break them
    const seen: number[] = [];
    let fdsReceived = 0;
    b.on('message', (m) => {
      seen.push(m.data.readUInt32BE(0));
      for (const fd of m.fds) closeFd(fd);
      fdsReceived += m.fds.length;
    });
    await once(a, 'drain');
    await until(() => seen.length === queued + 20);
    expect(seen).toEqual(Array.from({ length: queued + 20 }, (_, i) => i));
    expect(fdsReceived).toBe(Math.floor(queued / 50) + 1 + 19);
    a.close();
    b.close();
    await once(b, 'close');
    expect(openFdCount()).toBe(baseline);
  });

  it('refuses a datagram larger than the socket send buffer with EMSGSIZE and stays usable', async () => {
    const [a, b] = pair();
    expect(catchCode(() => a.send(Buffer.alloc(4 * 1024 * 1024)))).toBe('EMSGSIZE');
    const got = nextMessage(b);
    a.send(Buffer.from('still fine'));
    expect((await got).data.toString()).toBe('still fine');
  });

  it('serves several clients; closing the server keeps accepted sockets open', async () => {
    const sockPath = path.join(tmpDir, 'multi.sock');
    const server = track(SeqpacketServer.listen(sockPath));
    const peers: SeqpacketSocket[] = [];
    server.on('connection', (s) => {
      peers.push(track(s));
      s.on('message', (m) => s.send(Buffer.concat([Buffer.from('echo:'), m.data])));
    });
    const clients = [0, 1, 2].map(() => track(SeqpacketSocket.connect(sockPath)));
    const replies = clients.map((c) => nextMessage(c));
    clients.forEach((c, i) => c.send(Buffer.from(`c${i}`)));
    expect((await Promise.all(replies)).map((m) => m.data.toString())).toEqual(['echo:c0', 'echo:c1', 'echo:c2']);
    server.close();
    await once(server, 'close');
    expect(catchCode(() => SeqpacketSocket.connect(sockPath))).toBe('ENOENT');
    const late = nextMessage(clients[1]!);
    clients[1]!.send(Buffer.from('after'));
    expect((await late).data.toString()).toBe('echo:after');
    const closed = Promise.all(clients.map((c) => once(c, 'close')));
    for (const p of peers) p.close();
    await closed; // clients see EOF when the server side closes
  });

  it('send after close fails with EPIPE', () => {
    const [a] = pair();
    a.close();
    expect(catchCode(() => a.send(Buffer.from('x')))).toBe('EPIPE');
  });
});

describe.skipIf(!canUseNetns)('passing a netns fd (needs root and ip)', () => {
  let ns: TestNetns;
  beforeAll(() => {
    ns = createTestNetns('scm');
  });
  afterAll(() => ns?.destroy());

  it('the received fd refers to the same network namespace', async () => {
    const [a, b] = pair();
    const nsFd = openNetns(ns.path);
    try {
      const got = nextMessage(b);
      a.send(Buffer.from('AddWorkload'), [nsFd]);
      const msg = await got;
      const recvFd = msg.fds[0]!;
      expect(isNetnsFd(recvFd)).toBe(true);
      expect(netnsInode(recvFd)).toBe(netnsInode(nsFd));
      expect(netnsInode(recvFd)).not.toBe(fs.statSync('/proc/self/ns/net').ino);
      closeFd(recvFd);
    } finally {
      closeFd(nsFd);
    }
  });
});

function catchCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
