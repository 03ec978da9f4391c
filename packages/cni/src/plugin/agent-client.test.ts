import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postAddEvent } from './agent-client';

describe('postAddEvent', () => {
  let dir = '';
  let silent: Server;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mesh-cni-agent-'));
    silent = createServer(() => undefined); // accepts, never answers
    await new Promise<void>((resolve) => silent.listen(join(dir, 'silent.sock'), resolve));
  });
  afterAll(async () => {
    silent.closeAllConnections();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives up on an agent that never answers after the timeout', async () => {
    const started = Date.now();
    const event = { Netns: '/x', PodName: 'p', PodNamespace: 'n', PodUID: 'u', IPs: [] };
    await expect(postAddEvent(join(dir, 'silent.sock'), event, 200)).rejects.toThrow(/no answer within 200 ms/);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
