import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createLogger } from '@mesh/core';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CniConfigInvalidError,
  CniConfigNotFoundError,
  CniInstallError,
  CniInstaller,
  findNativePlugin,
  installCniPlugin,
  ISTIO_OWNED_CNI_CONFIG_FILENAME,
  uninstallCniPlugin,
  UNCHAINED_CNI_CONFIG_FILENAME,
  type CniInstallOptions,
} from './index';

const run = promisify(execFile);
const PKG_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const NATIVE_PLUGIN = join(PKG_DIR, 'native-plugin', 'build', 'istio-cni');

// Formatting a CNI would write, deliberately not ours (tabs, key order) to prove byte-identical restore.
const KINDNET_CONFLIST = '{\n\t"cniVersion": "0.3.1",\n\t"name": "kindnet",\n\t"plugins": [\n\t\t{"type": "ptp", "ipMasq": false},\n\t\t{"type": "portmap", "capabilities": {"portMappings": true}}\n\t]\n}\n';
const BRIDGE_CONF = '{"cniVersion":"1.0.0","name":"bridge","type":"bridge","bridge":"cni0","ipam":{"type":"host-local","subnet":"10.22.0.0/16"}}';
const PLUGIN_CONFIG = { ambient_enabled: true, exclude_namespaces: ['kube-system'], cni_agent_run_dir: '/var/run/istio-cni', plugin_log_level: 'info' };

let root: string;
let opts: CniInstallOptions;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'cni-install-'));
  await mkdir(join(root, 'bin'));
  await mkdir(join(root, 'net.d'));
  const plugin = join(root, 'plugin.mjs');
  await writeFile(plugin, "process.stdout.write(JSON.stringify({ argv: process.argv.slice(2), ok: true }));\n");
  // The Node launcher unless a test asks for the native plugin: the source tree may have one built.
  opts = { binDir: join(root, 'bin'), confDir: join(root, 'net.d'), pluginPath: plugin, pluginConfig: PLUGIN_CONFIG, nativePluginPath: false };
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const conf = (name: string): string => join(root, 'net.d', name);
const readJson = async (name: string): Promise<{ name?: string; cniVersion?: string; plugins: Array<Record<string, unknown>> }> =>
  JSON.parse(await readFile(conf(name), 'utf8')) as { plugins: Array<Record<string, unknown>> };
const confFiles = async (): Promise<string[]> => (await readdir(join(root, 'net.d'))).sort();

describe('chained install', () => {
  it('appends istio-cni to the primary .conflist, last, with the Istio keys', async () => {
    await writeFile(conf('10-kindnet.conflist'), KINDNET_CONFLIST);
    const { result } = await installCniPlugin(opts);
    expect(result).toEqual({ configPath: conf('10-kindnet.conflist'), changed: true, plugin: 'node' });
    const list = await readJson('10-kindnet.conflist');
    expect(list.name).toBe('kindnet');
    expect(list.plugins.map((p) => p['type'])).toEqual(['ptp', 'portmap', 'istio-cni']);
    expect(list.plugins[2]).toEqual({ ...PLUGIN_CONFIG, type: 'istio-cni', name: 'istio-cni' });
  });

  it('picks the lexicographically first config and skips ones without plugins', async () => {
    await writeFile(conf('05-empty.conflist'), '{"cniVersion":"1.0.0","name":"e","plugins":[]}');
    await writeFile(conf('10-kindnet.conflist'), KINDNET_CONFLIST);
    await writeFile(conf('20-other.conflist'), KINDNET_CONFLIST);
    await new CniInstaller(opts).install();
    expect((await readJson('10-kindnet.conflist')).plugins).toHaveLength(3);
    expect(await readFile(conf('20-other.conflist'), 'utf8')).toBe(KINDNET_CONFLIST);
  });

  it('turns a .conf into a .conflist (primary first, cniVersion on the list) and removes the .conf', async () => {
    await writeFile(conf('10-bridge.conf'), BRIDGE_CONF);
    const { result } = await installCniPlugin(opts);
    expect(result.configPath).toBe(conf('10-bridge.conflist'));
    expect(await confFiles()).toEqual(['10-bridge.conflist']);
    const list = await readJson('10-bridge.conflist');
    expect(list.cniVersion).toBe('1.0.0');
    expect(list.name).toBe('bridge');
    expect(list.plugins[0]).toEqual({ name: 'bridge', type: 'bridge', bridge: 'cni0', ipam: { type: 'host-local', subnet: '10.22.0.0/16' } });
    expect(list.plugins[1]?.['type']).toBe('istio-cni');
  });

  it('is idempotent: a second install writes nothing and never duplicates the entry', async () => {
    await writeFile(conf('10-kindnet.conflist'), KINDNET_CONFLIST);
    const installer = new CniInstaller(opts);
    await installer.install();
    const before = await stat(conf('10-kindnet.conflist'));
    const again = await installer.install();
    expect(again.changed).toBe(false);
    expect((await stat(conf('10-kindnet.conflist'))).mtimeMs).toBe(before.mtimeMs);
    const fresh = await new CniInstaller(opts).install(); // a restarted agent
    expect(fresh.changed).toBe(false);
    expect((await readJson('10-kindnet.conflist')).plugins.filter((p) => p['type'] === 'istio-cni')).toHaveLength(1);
  });

  it('replaces a stale istio-cni entry instead of adding a second one', async () => {
    await writeFile(conf('10-kindnet.conflist'), KINDNET_CONFLIST);
    await new CniInstaller(opts).install();
    await new CniInstaller({ ...opts, pluginConfig: { ...PLUGIN_CONFIG, plugin_log_level: 'debug' } }).install();
    const ours = (await readJson('10-kindnet.conflist')).plugins.filter((p) => p['type'] === 'istio-cni');
    expect(ours).toHaveLength(1);
    expect(ours[0]?.['plugin_log_level']).toBe('debug');
  });

  it('uninstall restores the primary .conflist byte for byte and removes the binaries', async () => {
    await writeFile(conf('10-kindnet.conflist'), KINDNET_CONFLIST);
    const { installer } = await installCniPlugin(opts);
    await installer.uninstall();
    expect(await readFile(conf('10-kindnet.conflist'), 'utf8')).toBe(KINDNET_CONFLIST);
    expect(await readdir(join(root, 'bin'))).toEqual([]);
  });

  it('uninstall turns the wrapped list back into the original .conf', async () => {
    await writeFile(conf('10-bridge.conf'), BRIDGE_CONF);
    const { installer } = await installCniPlugin(opts);
    await installer.uninstall();
    expect(await confFiles()).toEqual(['10-bridge.conf']);
    expect(await readFile(conf('10-bridge.conf'), 'utf8')).toBe(BRIDGE_CONF);
  });

  it('stateless uninstall (a new process) takes only our entry out', async () => {
    await writeFile(conf('10-kindnet.conflist'), KINDNET_CONFLIST);
    await installCniPlugin(opts);
    await uninstallCniPlugin(opts);
    expect(JSON.parse(await readFile(conf('10-kindnet.conflist'), 'utf8'))).toEqual(JSON.parse(KINDNET_CONFLIST));
  });

  it('invalid JSON in the primary config: a clear typed error and nothing written', async () => {
    await writeFile(conf('10-kindnet.conflist'), '{"cniVersion": "0.3.1", "plugins": [');
    const err = await new CniInstaller(opts).install().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CniConfigInvalidError);
    expect((err as InstanceType<typeof CniConfigInvalidError>).code).toBe('CNI_CONFIG_INVALID');
    expect((err as Error).message).toContain('10-kindnet.conflist');
    expect(await readFile(conf('10-kindnet.conflist'), 'utf8')).toBe('{"cniVersion": "0.3.1", "plugins": [');
    expect(await confFiles()).toEqual(['10-kindnet.conflist']);
  });

  it('no primary config yet: CniConfigNotFoundError, then the watcher installs once one appears', async () => {
    const err = await new CniInstaller(opts).install().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CniConfigNotFoundError);
    const installer = new CniInstaller({ ...opts, checkIntervalMs: 100 });
    installer.start();
    try {
      await installer.reconcile();
      expect(installer.installed).toBe(false);
      await writeFile(conf('10-kindnet.conflist'), KINDNET_CONFLIST);
      await waitFor(async () => (await readFile(conf('10-kindnet.conflist'), 'utf8')).includes('istio-cni'));
      expect(installer.installed).toBe(true);
    } finally {
      await installer.stop();
    }
  });

  it('re-applies when the primary CNI rewrites its file without our entry', async () => {
    await writeFile(conf('10-kindnet.conflist'), KINDNET_CONFLIST);
    const installer = new CniInstaller({ ...opts, checkIntervalMs: 200 });
    installer.start();
    try {
      await waitFor(async () => (await readJson('10-kindnet.conflist')).plugins.length === 3);
      const rewritten = KINDNET_CONFLIST.replace('"ipMasq": false', '"ipMasq": true');
      await writeFile(conf('10-kindnet.conflist'), rewritten);
      await waitFor(async () => (await readJson('10-kindnet.conflist')).plugins.length === 3);
      expect((await readJson('10-kindnet.conflist')).plugins[0]?.['ipMasq']).toBe(true);
      await installer.uninstall();
      // The primary's newest version is what comes back, not the one from before the first install.
      expect(await readFile(conf('10-kindnet.conflist'), 'utf8')).toBe(rewritten);
    } finally {
      await installer.stop();
    }
  });
});

describe('other modes', () => {
  it('istioOwnedCniConfig writes 02-istio-cni.conflist and leaves the primary alone', async () => {
    await writeFile(conf('10-kindnet.conflist'), KINDNET_CONFLIST);
    const { installer, result } = await installCniPlugin({ ...opts, istioOwnedCniConfig: true });
    expect(result.configPath).toBe(conf(ISTIO_OWNED_CNI_CONFIG_FILENAME));
    expect(await readFile(conf('10-kindnet.conflist'), 'utf8')).toBe(KINDNET_CONFLIST);
    expect((await readJson(ISTIO_OWNED_CNI_CONFIG_FILENAME)).plugins.map((p) => p['type'])).toEqual(['ptp', 'portmap', 'istio-cni']);
    expect((await installer.install()).changed).toBe(false); // our own file is not taken for the primary
    await installer.uninstall();
    expect(await confFiles()).toEqual(['10-kindnet.conflist']);
  });

  it('unchained writes a standalone config without needing a primary', async () => {
    const { installer } = await installCniPlugin({ ...opts, chained: false });
    const c = JSON.parse(await readFile(conf(UNCHAINED_CNI_CONFIG_FILENAME), 'utf8')) as Record<string, unknown>;
    expect(c).toMatchObject({ cniVersion: '1.0.0', type: 'istio-cni', name: 'istio-cni', ambient_enabled: true });
    await installer.uninstall();
    expect(await confFiles()).toEqual([]);
  });
});

describe('plugin binary', () => {
  it('installs an executable istio-cni launcher that runs the bundled plugin with node', async () => {
    await writeFile(conf('10-kindnet.conflist'), KINDNET_CONFLIST);
    await installCniPlugin({ ...opts, nodeBinaryPath: process.execPath });
    const bin = join(root, 'bin', 'istio-cni');
    expect((await stat(bin)).mode & 0o111).toBe(0o111);
    const { stdout } = await run(bin, ['x'], { env: { PATH: '/nonexistent' } }); // uses the copied istio-cni-node
    expect(JSON.parse(stdout)).toEqual({ argv: ['x'], ok: true });
    expect((await readdir(join(root, 'bin'))).sort()).toEqual(['istio-cni', 'istio-cni-node', 'istio-cni.mjs']);
  });
});

describe('native plugin', () => {
  beforeAll(async () => {
    if (!existsSync(NATIVE_PLUGIN)) await run(process.execPath, [join(PKG_DIR, 'scripts', 'build-native-plugin.mjs')]);
  }, 60_000);

  // As a runtime does: bare environment, stdin closed (the plugin reads its config to EOF first).
  const versionOf = async (bin: string): Promise<unknown> => {
    const child = run(bin, [], { env: { CNI_COMMAND: 'VERSION' }, timeout: 4_000 });
    child.child.stdin?.end();
    return JSON.parse((await child).stdout) as unknown;
  };

  it('installs the native binary as the istio-cni executable (0755, byte-identical) and it answers VERSION', async () => {
    await writeFile(conf('10-kindnet.conflist'), KINDNET_CONFLIST);
    const { result } = await installCniPlugin({ ...opts, nativePluginPath: NATIVE_PLUGIN });
    expect(result.plugin).toBe('native');
    const bin = join(root, 'bin', 'istio-cni');
    expect((await stat(bin)).mode & 0o777).toBe(0o755);
    expect((await readFile(bin)).equals(await readFile(NATIVE_PLUGIN))).toBe(true);
    expect(await readdir(join(root, 'bin'))).toEqual(['istio-cni']); // no launcher, no script, no temp files
    // Runtimes exec plugins with a bare environment: no node, no PATH needed.
    expect(await versionOf(bin)).toEqual({ cniVersion: '1.0.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
  });

  it('is looked up beside the bundled plugin (dist/ in the image) and the choice is logged', async () => {
    const dist = join(root, 'dist');
    await mkdir(dist);
    await copyFile(opts.pluginPath, join(dist, 'istio-cni.mjs'));
    await copyFile(NATIVE_PLUGIN, join(dist, 'istio-cni'));
    await chmod(join(dist, 'istio-cni'), 0o755);
    const lines: string[] = [];
    const logger = createLogger({ component: 'test', destination: new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) }) });
    const { nativePluginPath: _ignored, ...auto } = opts;
    const { result } = await installCniPlugin({ ...auto, pluginPath: join(dist, 'istio-cni.mjs'), chained: false, logger });
    expect(result.plugin).toBe('native');
    const choice = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['plugin'] !== undefined);
    expect(choice).toMatchObject({ plugin: 'native', source: join(dist, 'istio-cni') });
    expect(await versionOf(join(root, 'bin', 'istio-cni'))).toMatchObject({ cniVersion: '1.0.0' });
  });

  it('falls back to the Node launcher only when no executable native plugin is found', async () => {
    const dir = join(root, 'empty');
    await mkdir(dir);
    expect(findNativePlugin([dir])).toBeUndefined();
    await writeFile(join(dir, 'istio-cni'), 'not executable', { mode: 0o644 });
    expect(findNativePlugin([dir])).toBeUndefined();
    await mkdir(join(dir, 'sub', 'istio-cni'), { recursive: true }); // a directory is not a plugin
    expect(findNativePlugin([join(dir, 'sub'), dirname(NATIVE_PLUGIN)])).toBe(NATIVE_PLUGIN);
    const { result } = await installCniPlugin({ ...opts, chained: false });
    expect(result.plugin).toBe('node');
    expect((await readdir(join(root, 'bin'))).sort()).toEqual(['istio-cni', 'istio-cni.mjs']);
    expect(await readFile(join(root, 'bin', 'istio-cni'), 'utf8')).toMatch(/^#!\/bin\/sh/);
  });

  it('replacing a Node install with the native one removes the launcher leftovers; uninstall leaves nothing', async () => {
    await writeFile(conf('10-kindnet.conflist'), KINDNET_CONFLIST);
    await installCniPlugin({ ...opts, nodeBinaryPath: process.execPath });
    expect((await readdir(join(root, 'bin'))).sort()).toEqual(['istio-cni', 'istio-cni-node', 'istio-cni.mjs']);
    const { installer, result } = await installCniPlugin({ ...opts, nativePluginPath: NATIVE_PLUGIN });
    expect(result.plugin).toBe('native');
    expect(await readdir(join(root, 'bin'))).toEqual(['istio-cni']);
    await installer.uninstall();
    expect(await readdir(join(root, 'bin'))).toEqual([]);
    // This installer did not see the pristine file (the first one did): only our entry is taken out.
    expect(JSON.parse(await readFile(conf('10-kindnet.conflist'), 'utf8'))).toEqual(JSON.parse(KINDNET_CONFLIST));
  });

  it('a configured native path that does not exist is a typed error, not a silent fallback', async () => {
    const missing = join(root, 'nope', 'istio-cni');
    const err = await new CniInstaller({ ...opts, chained: false, nativePluginPath: missing }).install().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CniInstallError);
    expect((err as Error).message).toContain(missing);
    expect(await readdir(join(root, 'bin'))).toEqual([]);
  });
});

async function waitFor(cond: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await cond()) return;
    } catch {
      // file mid-rename: try again
    }
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
