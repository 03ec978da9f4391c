import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalCluster, MESHCTL_LOG_FILE } from './local-cluster';

describe('LocalCluster.logFile', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  const cluster = (): LocalCluster => {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshctl-logfile-'));
    dirs.push(stateDir);
    return new LocalCluster({ cluster: 'logtest', stateDir, logger: { info() {}, debug() {} } });
  };

  it('names meshctl own log without needing a running cluster', () => {
    const c = cluster();
    expect(c.logFile('meshctl')).toBe(path.join(c.paths.logsDir, MESHCTL_LOG_FILE));
  });

  it('names what it could not find for an unknown target', () => {
    expect(() => cluster().logFile('istiod')).toThrow(/istiod not found/);
  });
});
