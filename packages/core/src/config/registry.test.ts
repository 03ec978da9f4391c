import { describe, expect, it } from 'vitest';
import { bool, duration, enumOf, int, list, parseDurationMs, str } from './types';
import { defineConfig, listVars, mergeConfig, renderHelp } from './registry';
import { isMeshError, type MeshError } from '../errors/mesh-error';

const registry = defineConfig({
  XDS_ADDRESS: str('https://istiod.istio-system.svc:15012', 'istiod xDS address'),
  POOL_MAX_STREAMS_PER_CONNECTION: int(100, 'streams per HBONE connection', { min: 1, max: 1000 }),
  TLS12_ENABLED: bool(false, 'allow TLS 1.2'),
  SECRET_TTL: duration('24h', 'workload certificate lifetime requested from the CA', { unit: 's' }),
  CONNECT_TIMEOUT: duration(10_000, 'upstream connect timeout'),
  LOG_FORMAT: enumOf(['plain', 'json'], 'json', 'log output format'),
  CA_TRUSTED_NODE_ACCOUNTS: list(['istio-system/ztunnel'], 'accounts allowed to impersonate'),
  CLUSTER_ID: str('Kubernetes', 'cluster name', { aliases: ['ISTIO_META_CLUSTER_ID'] }),
});

function thrown(fn: () => unknown): MeshError {
  try {
    fn();
  } catch (err) {
    if (isMeshError(err)) return err;
    throw err;
  }
  throw new Error('expected a throw');
}

describe('defineConfig', () => {
  it('uses defaults for unset and empty variables and freezes the result', () => {
    const c = registry.parse({ TLS12_ENABLED: '' });
    expect(c).toEqual({
      XDS_ADDRESS: 'https://istiod.istio-system.svc:15012',
      POOL_MAX_STREAMS_PER_CONNECTION: 100,
      TLS12_ENABLED: false,
      SECRET_TTL: 86_400,
      CONNECT_TIMEOUT: 10_000,
      LOG_FORMAT: 'json',
      CA_TRUSTED_NODE_ACCOUNTS: ['istio-system/ztunnel'],
      CLUSTER_ID: 'Kubernetes',
    });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.CA_TRUSTED_NODE_ACCOUNTS)).toBe(true);
  });

  it('parses every type from the env', () => {
    const c = registry.parse({
      XDS_ADDRESS: 'https://x:1',
      POOL_MAX_STREAMS_PER_CONNECTION: '7',
      TLS12_ENABLED: 'True',
      SECRET_TTL: '1h30m',
      CONNECT_TIMEOUT: '250',
      LOG_FORMAT: 'plain',
      CA_TRUSTED_NODE_ACCOUNTS: 'a/b, c/d,,',
      ISTIO_META_CLUSTER_ID: 'east',
    });
    expect(c.XDS_ADDRESS).toBe('https://x:1');
    expect(c.POOL_MAX_STREAMS_PER_CONNECTION).toBe(7);
    expect(c.TLS12_ENABLED).toBe(true);
    expect(c.SECRET_TTL).toBe(5400);
    expect(c.CONNECT_TIMEOUT).toBe(250);
    expect(c.LOG_FORMAT).toBe('plain');
    expect(c.CA_TRUSTED_NODE_ACCOUNTS).toEqual(['a/b', 'c/d']);
    expect(c.CLUSTER_ID).toBe('east');
  });

  it('prefers the main name over aliases', () => {
    expect(registry.parse({ CLUSTER_ID: 'a', ISTIO_META_CLUSTER_ID: 'b' }).CLUSTER_ID).toBe('a');
  });

  it.each([
    ['POOL_MAX_STREAMS_PER_CONNECTION', '0'],
    ['POOL_MAX_STREAMS_PER_CONNECTION', '1.5'],
    ['POOL_MAX_STREAMS_PER_CONNECTION', 'ten'],
    ['TLS12_ENABLED', 'yes'],
    ['SECRET_TTL', '10x'],
    ['CONNECT_TIMEOUT', '-5s'],
    ['LOG_FORMAT', 'xml'],
  ])('rejects %s=%s naming the variable and the value', (name, value) => {
    const err = thrown(() => registry.parse({ [name]: value }));
    expect(err.code).toBe('CONFIG_INVALID_VALUE');
    expect(err.message).toContain(name);
    expect(err.message).toContain(JSON.stringify(value));
  });

  it('names the alias that held a bad value', () => {
    const reg = defineConfig({ N: int(1, 'n', { aliases: ['OLD_N'] }) });
    expect(thrown(() => reg.parse({ OLD_N: 'x' })).message).toContain('OLD_N');
  });

  it('fails on required variables that are unset', () => {
    const reg = defineConfig({ POD_NAME: str('', 'pod name', { required: true }) });
    expect(thrown(() => reg.parse({})).code).toBe('CONFIG_MISSING_VALUE');
    expect(reg.parse({ POD_NAME: 'p' }).POD_NAME).toBe('p');
  });

  it('rejects a variable registered twice (via alias or merge)', () => {
    expect(thrown(() => defineConfig({ A: str('', 'a'), B: str('', 'b', { aliases: ['A'] }) })).code).toBe('CONFIG_DUPLICATE_VAR');
    const other = defineConfig({ XDS_ADDRESS: str('', 'dup') });
    expect(thrown(() => mergeConfig(registry, other)).code).toBe('CONFIG_DUPLICATE_VAR');
    const merged = mergeConfig(registry, defineConfig({ EXTRA: int(3, 'extra') }));
    expect(merged.parse({}).EXTRA).toBe(3);
  });

  it('rejects an invalid default at definition time', () => {
    expect(thrown(() => int(0, 'x', { min: 1 })).code).toBe('CONFIG_BAD_DEFINITION');
    expect(thrown(() => duration('soon', 'x')).code).toBe('CONFIG_BAD_DEFINITION');
  });

  it('reads process.env by default', () => {
    process.env['MESH_CORE_TEST_VAR'] = '42';
    try {
      expect(defineConfig({ MESH_CORE_TEST_VAR: int(0, 't') }).parse().MESH_CORE_TEST_VAR).toBe(42);
    } finally {
      delete process.env['MESH_CORE_TEST_VAR'];
    }
  });
});

describe('help and listing', () => {
  it('lists every variable with default, unit and description', () => {
    const vars = listVars(registry);
    expect(vars.map((v) => v.name)).toEqual([...Object.keys(registry.specs)].sort());
    expect(vars.find((v) => v.name === 'SECRET_TTL')).toMatchObject({ type: 'duration', default: '86400s', unit: 's' });
    expect(vars.find((v) => v.name === 'CLUSTER_ID')?.aliases).toEqual(['ISTIO_META_CLUSTER_ID']);
  });

  it('renders --help text', () => {
    const help = renderHelp(registry);
    expect(help).toContain('XDS_ADDRESS  string, default "https://istiod.istio-system.svc:15012"');
    expect(help).toContain('CONNECT_TIMEOUT  duration (ms), default "10000ms"');
    expect(help).toContain('upstream connect timeout');
    expect(help).toContain('[also: ISTIO_META_CLUSTER_ID]');
  });
});

describe('parseDurationMs', () => {
  it.each([
    ['100ms', 100],
    ['10s', 10_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    ['2d', 172_800_000],
    ['7', 7],
  ])('%s -> %d ms', (raw, ms) => {
    expect(parseDurationMs(raw)).toBe(ms);
  });

  it.each(['', 's', '10 s', '1h-2m', '5y', '-1s'])('rejects %j', (raw) => {
    expect(parseDurationMs(raw)).toBeUndefined();
  });

  it('uses the bare unit for plain numbers', () => {
    expect(parseDurationMs('3', 's')).toBe(3000);
  });
});
