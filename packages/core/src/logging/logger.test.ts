import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, getLogLevel, setLogLevel } from './logger';
import { isMeshError } from '../errors/mesh-error';

function sink(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('createLogger', () => {
  it('writes JSON with component, level label and time', () => {
    const s = sink();
    const log = createLogger({ component: 'xds', destination: s.stream });
    log.info({ peer: 'istiod' }, 'connected');
    const [line] = s.lines();
    expect(line).toMatchObject({ component: 'xds', level: 'info', msg: 'connected', peer: 'istiod' });
    expect(typeof line?.['time']).toBe('string');
  });

  it('child loggers add bindings and follow runtime level changes', () => {
    const s = sink();
    const root = createLogger({ component: 'ztunnel', destination: s.stream, level: 'info' });
    const conn = root.child({ conn: 7 });
    const grandchild = conn.child({ stream: 1 });
    grandchild.debug('hidden');
    expect(s.lines()).toHaveLength(0);
    expect(setLogLevel(root, 'debug')).toBe(3);
    grandchild.debug('shown');
    expect(s.lines()).toEqual([expect.objectContaining({ conn: 7, stream: 1, msg: 'shown', level: 'debug' })]);
    expect(getLogLevel(conn)).toBe('debug');
  });

  it('can change the level of one component only', () => {
    const s = sink();
    const root = createLogger({ component: 'ztunnel', destination: s.stream });
    const xds = root.child({ component: 'xds' });
    const proxy = root.child({ component: 'proxy' });
    expect(setLogLevel(root, 'debug', 'xds')).toBe(1);
    xds.debug('x');
    proxy.debug('p');
    expect(s.lines().map((l) => l['msg'])).toEqual(['x']);
  });

  it('rejects unknown levels with a typed error', () => {
    const root = createLogger({ component: 'c', destination: sink().stream });
    try {
      setLogLevel(root, 'loud');
      expect.unreachable();
    } catch (err) {
      expect(isMeshError(err, 'LOG_INVALID_LEVEL')).toBe(true);
    }
  });
});
