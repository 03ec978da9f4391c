import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger, isMeshError } from '@mesh/core';
import { ztunnelConfig } from './config';
import { ztunnelFromConfig } from './from-config';

describe('ztunnelFromConfig with ZTUNNEL_WORKER_THREADS', () => {
  it('refuses more than one worker without SO_REUSEPORT on pod listeners, naming both variables', () => {
    const root = path.join(os.tmpdir(), `mtest-${process.pid}-root.pem`);
    fs.writeFileSync(root, 'not used before the check\n');
    try {
      const cfg = ztunnelConfig.parse({ ROOT_CERT: root, ZTUNNEL_WORKER_THREADS: '2', INPOD_PORT_REUSE: 'false' });
      let err: unknown;
      try {
        ztunnelFromConfig(cfg, createLogger({ component: 'ztunnel', level: 'silent' }));
      } catch (e) {
        err = e;
      }
      expect(isMeshError(err, 'ZTUNNEL_WORKER_THREADS_NEED_PORT_REUSE')).toBe(true);
      expect((err as Error).message).toContain('INPOD_PORT_REUSE=true');
    } finally {
      fs.rmSync(root, { force: true });
    }
  });

  it('defaults to the single event loop and rejects 0 workers', () => {
    expect(ztunnelConfig.parse({}).ZTUNNEL_WORKER_THREADS).toBe(1);
    expect(() => ztunnelConfig.parse({ ZTUNNEL_WORKER_THREADS: '0' })).toThrow(/ZTUNNEL_WORKER_THREADS/);
  });
});
