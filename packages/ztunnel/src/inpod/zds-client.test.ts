import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { create, fromBinary, toBinary, zds } from '@mesh/api';
import { createLogger } from '@mesh/core';
import { SeqpacketServer, type SeqpacketSocket } from '@mesh/netns';
import type { PodInfo } from '../proxy/index';
import { ZdsClient, type ZdsHandler } from './zds-client';

const sockPath = path.join(os.tmpdir(), `mtest-${process.pid}-zds-client.sock`);

interface Captured {
  lines: Record<string, unknown>[];
}

function capture(): { logger: ReturnType<typeof createLogger>; captured: Captured } {
  const captured: Captured = { lines: [] };
  const logger = createLogger({
    component: 'zds', level: 'debug',
    destination: { write: (s: string) => void captured.lines.push(JSON.parse(s) as Record<string, unknown>) },
  });
  return { logger, captured };
}

class RecordingHandler implements ZdsHandler {
  readonly events: string[] = [];
  async add(info: PodInfo): Promise<void> {
    this.events.push(`add ${info.uid}`);
  }
  keep(uid: string): void {
    this.events.push(`keep ${uid}`);
  }
  async snapshotSent(): Promise<void> {
    this.events.push('snapshot');
  }
  async del(uid: string): Promise<void> {
    this.events.push(`del ${uid}`);
  }
  connectionStarted(): void {
    this.events.push('started');
  }
}

/** Accepts connections and hands out each one after its hello. */
function agentServer(): { server: SeqpacketServer; next(): Promise<SeqpacketSocket> } {
  fs.rmSync(sockPath, { force: true });
  const server = SeqpacketServer.listen(sockPath);
  const ready: SeqpacketSocket[] = [];
  const waiting: ((s: SeqpacketSocket) => void)[] = [];
  server.on('connection', (s) => s.once('message', (m) => {
    expect(fromBinary(zds.ZdsHelloSchema, m.data).version).toBe(zds.Version.V1);
    const w = waiting.shift();
    if (w) w(s);
    else ready.push(s);
  }));
  return {
    server,
    next: () => {
      const s = ready.shift();
      return s ? Promise.resolve(s) : new Promise((r) => waiting.push(r));
    },
  };
}

function ackOf(s: SeqpacketSocket): Promise<string> {
  return new Promise((resolve) => s.once('message', (m) => {
    const r = fromBinary(zds.WorkloadResponseSchema, m.data);
    resolve(r.payload.case === 'ack' ? r.payload.value.error : 'not an ack');
  }));
}

let client: ZdsClient | undefined;
let server: SeqpacketServer | undefined;
afterEach(() => {
  client?.stop();
  server?.close();
  fs.rmSync(sockPath, { force: true });
});

describe('ZdsClient', () => {
  it('retries an absent agent with doubling backoff capped at the maximum, then connects', async () => {
    fs.rmSync(sockPath, { force: true });
    const { logger, captured } = capture();
    const handler = new RecordingHandler();
    client = new ZdsClient({ path: sockPath, handler, logger, initialBackoffMs: 10, maxBackoffMs: 40 });
    client.start();
    await new Promise((r) => setTimeout(r, 200));
    expect(client.connected).toBe(false);
    const delays = captured.lines.filter((l) => String(l.msg).includes('cannot reach the CNI node agent')).map((l) => l.retryInMs);
    expect(delays.slice(0, 4)).toEqual([10, 20, 40, 40]);
    const agent = agentServer();
    server = agent.server;
    await agent.next();
    expect(client.connected).toBe(true);
    expect(handler.events).toEqual(['started']);
  });

  it('drops the connection on an undecodable message and reconnects with a new snapshot', async () => {
    const agent = agentServer();
    server = agent.server;
    const handler = new RecordingHandler();
    const { logger, captured } = capture();
    client = new ZdsClient({ path: sockPath, handler, logger, initialBackoffMs: 10, maxBackoffMs: 40 });
    client.start();
    const first = await agent.next();
    first.send(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]));
    const second = await agent.next();
    expect(captured.lines.some((l) => String(l.msg).startsWith('undecodable ZDS message'))).toBe(true);
    expect(handler.events).toEqual(['started', 'started']);
    // The new connection works: requests are acked.
    const ack = ackOf(second);
    second.send(toBinary(zds.WorkloadRequestSchema, create(zds.WorkloadRequestSchema, { payload: { case: 'snapshotSent', value: {} } })));
    expect(await ack).toBe('');
    expect(handler.events).toEqual(['started', 'started', 'snapshot']);
  });

  it('NACKs a request with unexpected file descriptors and an unknown payload, keeping the connection', async () => {
    const agent = agentServer();
    server = agent.server;
    const handler = new RecordingHandler();
    client = new ZdsClient({ path: sockPath, handler, logger: capture().logger, initialBackoffMs: 10 });
    client.start();
    const s = await agent.next();
    let ack = ackOf(s);
    s.send(toBinary(zds.WorkloadRequestSchema, create(zds.WorkloadRequestSchema, {})));
    expect(await ack).toBe('unknown WorkloadRequest payload');
    const fd = fs.openSync('/dev/null', 'r');
    ack = ackOf(s);
    s.send(toBinary(zds.WorkloadRequestSchema, create(zds.WorkloadRequestSchema, { payload: { case: 'del', value: { uid: 'u1' } } })), [fd]);
    expect(await ack).toMatch(/must carry no file descriptors, got 1/);
    fs.closeSync(fd);
    ack = ackOf(s);
    s.send(toBinary(zds.WorkloadRequestSchema, create(zds.WorkloadRequestSchema, { payload: { case: 'del', value: { uid: 'u1' } } })));
    expect(await ack).toBe('');
    expect(handler.events).toEqual(['started', 'del u1']);
    expect(client.connected).toBe(true);
  });

  it('reconnects after the agent restarts', async () => {
    let agent = agentServer();
    server = agent.server;
    const handler = new RecordingHandler();
    client = new ZdsClient({ path: sockPath, handler, logger: capture().logger, initialBackoffMs: 10, maxBackoffMs: 40 });
    const states: string[] = [];
    client.on('connected', () => states.push('up'));
    client.on('disconnected', () => states.push('down'));
    client.start();
    const s = await agent.next();
    s.close();
    server.close();
    await new Promise((r) => setTimeout(r, 50));
    agent = agentServer();
    server = agent.server;
    await agent.next();
    expect(states).toEqual(['up', 'down', 'up']);
  });
});
