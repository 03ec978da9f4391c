import { MessageChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { isMeshError } from '@mesh/core';
import { RpcPort } from './rpc';

const channels: MessageChannel[] = [];
afterEach(() => {
  for (const c of channels.splice(0)) {
    c.port1.close();
    c.port2.close();
  }
});

function pair(): [RpcPort, RpcPort] {
  const c = new MessageChannel();
  channels.push(c);
  return [new RpcPort(c.port1, 'worker'), new RpcPort(c.port2, 'main')];
}

describe('RpcPort', () => {
  it('answers with the value, or rebuilds the error with its code', async () => {
    const [client, server] = pair();
    server.handle('double', (n: number) => n * 2);
    server.handle('fail', () => Promise.reject(Object.assign(new Error('boom'), { code: 'EBOOM' })));
    expect(await client.request<number>('double', 21)).toBe(42);
    const err = await client.request('fail', null).catch((e: unknown) => e);
    expect(isMeshError(err, 'ZTUNNEL_WORKER_REQUEST_FAILED')).toBe(true);
    expect((err as { details: { remoteCode: string } }).details.remoteCode).toBe('EBOOM');
  });

  it('answers a handler that throws a non-Error (even undefined) instead of leaving the request pending', async () => {
    const [client, server] = pair();
    server.handle('throwsUndefined', () => {
      throw undefined; // eslint-disable-line no-throw-literal
    });
    await expect(client.request('throwsUndefined', null)).rejects.toThrow(/throwsUndefined failed: undefined/);
    await expect(client.request('missing', null)).rejects.toThrow(/no handler for missing/);
  });
});
