import { mkdtemp, mkdir, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { captureLogger } from '../testing/log-capture';
import { DirectorySource } from './directory-source';
import { ConfigStore } from './store';
import type { InvalidResourceReport } from './types';

const ns = (name: string, labels: Record<string, string> = {}): string =>
  `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n  labels: ${JSON.stringify(labels)}\n`;
const svc = (name: string, port: number): string =>
  `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\n  namespace: ns1\nspec:\n  selector: {app: ${name}}\n  ports: [{port: ${port}}]\n`;

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('DirectorySource', () => {
  let dir: string;
  let source: DirectorySource | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'istiod-dir-'));
  });
  afterEach(async () => {
    source?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('loads multi-document files from nested folders with every extension', async () => {
    await mkdir(join(dir, 'a', 'b'), { recursive: true });
    await writeFile(join(dir, 'ns.yaml'), `${ns('ns1')}---\n${ns('ns2')}`);
    await writeFile(join(dir, 'a', 'svc.yml'), svc('s1', 80));
    await writeFile(join(dir, 'a', 'b', 'list.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns3' } }] }));
    await writeFile(join(dir, 'README.md'), 'not a manifest');
    const store = new ConfigStore({ logger: captureLogger().logger });
    source = new DirectorySource({ dir, store, logger: captureLogger().logger, pollIntervalMs: 0 });
    await source.start();
    expect(store.list('Namespace').map((n) => n.metadata.name).sort()).toEqual(['ns1', 'ns2', 'ns3']);
    expect(store.get('Service', 'ns1', 's1')?.spec?.ports?.[0]?.port).toBe(80);
  });

  it('picks up added, modified and deleted files through watching', async () => {
    await writeFile(join(dir, 'ns.yaml'), ns('ns1'));
    const store = new ConfigStore({ logger: captureLogger().logger });
    const seen: string[] = [];
    store.subscribe((e) => seen.push(`${e.type} ${e.kind} ${e.name}`));
    source = new DirectorySource({ dir, store, logger: captureLogger().logger, pollIntervalMs: 0, debounceMs: 20 });
    await source.start();
    await writeFile(join(dir, 'svc.yaml'), svc('s1', 80));
    await until(() => store.get('Service', 'ns1', 's1') !== undefined);
    await writeFile(join(dir, 'svc.yaml'), svc('s1', 8080));
    await until(() => store.get('Service', 'ns1', 's1')?.spec?.ports?.[0]?.port === 8080);
    await unlink(join(dir, 'svc.yaml'));
    await until(() => store.get('Service', 'ns1', 's1') === undefined);
    expect(seen).toEqual(['add Namespace ns1', 'add Service s1', 'update Service s1', 'delete Service s1']);
  });

  it('picks up changes by polling when no watch event arrives', async () => {
    const store = new ConfigStore({ logger: captureLogger().logger });
    source = new DirectorySource({ dir, store, logger: captureLogger().logger, pollIntervalMs: 50, debounceMs: 10 });
    await source.start();
    await mkdir(join(dir, 'late'));
    await writeFile(join(dir, 'late', 'ns.yaml'), ns('late'));
    await until(() => store.get('Namespace', '', 'late') !== undefined);
  });

  it('keeps the previous objects of a file caught mid-write until it parses again', async () => {
    await writeFile(join(dir, 'svc.yaml'), `${svc('s1', 80)}---\n${svc('s2', 81)}`);
    const parseErrors: InvalidResourceReport[] = [];
    const store = new ConfigStore({ logger: captureLogger().logger });
    source = new DirectorySource({ dir, store, logger: captureLogger().logger, pollIntervalMs: 0, onParseError: (r) => parseErrors.push(r) });
    await source.start();
    await writeFile(join(dir, 'svc.yaml'), `${svc('s1', 80)}---\napiVersion: v1\nkind: Service\nmetadata: {name: s2, namespace: ns1\n`);
    await source.rescan();
    expect(parseErrors).toHaveLength(1);
    expect(parseErrors[0]!.issues[0]!.code).toBe('YAML_SYNTAX');
    expect(store.get('Service', 'ns1', 's2')).toBeDefined();
    await writeFile(join(dir, 'svc.yaml'), svc('s1', 80));
    await source.rescan();
    expect(store.get('Service', 'ns1', 's2')).toBeUndefined();
    expect(store.get('Service', 'ns1', 's1')).toBeDefined();
  });

  it('reports an invalid object and still loads its valid neighbours', async () => {
    const bad = 'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: p, namespace: ns1}\nspec: {mtls: {mode: SOMETIMES}}\n';
    await writeFile(join(dir, 'mixed.yaml'), `${bad}---\n${svc('s1', 80)}`);
    const reports: InvalidResourceReport[] = [];
    const store = new ConfigStore({ logger: captureLogger().logger, onInvalid: (r) => reports.push(r) });
    source = new DirectorySource({ dir, store, logger: captureLogger().logger, pollIntervalMs: 0 });
    await source.start();
    expect(store.get('Service', 'ns1', 's1')).toBeDefined();
    expect(reports.map((r) => `${r.resource} ${r.source} ${r.issues[0]!.path}`)).toEqual(['PeerAuthentication ns1/p mixed.yaml spec.mtls.mode']);
  });
});
