import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { check, importsOf } from './check-boundaries.mjs';

let dirs = [];
afterEach(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); dirs = []; });

function workspace(pkgs) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'boundaries-'));
  dirs.push(root);
  for (const [name, { kind, deps = [], files }] of Object.entries(pkgs)) {
    const dir = path.join(root, 'packages', name);
    fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({
      name: `@mesh/${name}`, mesh: { kind }, dependencies: Object.fromEntries(deps.map((d) => [d, '*'])),
    }));
    for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, 'src', f), text);
  }
  return root;
}

describe('module boundary check', () => {
  it('accepts a clean workspace', () => {
    const root = workspace({
      core: { kind: 'lib', files: { 'index.ts': 'export const x = 1;\n' } },
      ztunnel: { kind: 'app', deps: ['@mesh/core'], files: { 'index.ts': "import { x } from '@mesh/core';\nimport './local';\n", 'local.ts': '' } },
    });
    expect(check(root)).toEqual([]);
  });

  it('rejects an app importing another app', () => {
    const root = workspace({
      istiod: { kind: 'app', files: { 'index.ts': '' } },
      ztunnel: { kind: 'app', deps: ['@mesh/istiod'], files: { 'index.ts': "import { a } from '@mesh/istiod';\n" } },
    });
    expect(check(root).join('\n')).toMatch(/app @mesh\/ztunnel imports app @mesh\/istiod/);
  });

  it('rejects a library importing an app, deep imports, undeclared deps and escaping relative imports', () => {
    const root = workspace({
      istiod: { kind: 'app', files: { 'index.ts': '' } },
      core: { kind: 'lib', files: { 'index.ts': '' } },
      hbone: { kind: 'lib', deps: ['@mesh/istiod'], files: {
        'index.ts': "import { a } from '@mesh/istiod';\nexport { b } from '@mesh/core/src/errors';\nconst c = await import('../../core/src/index');\n",
      } },
    });
    const out = check(root).join('\n');
    expect(out).toMatch(/lib @mesh\/hbone imports app @mesh\/istiod/);
    expect(out).toMatch(/deep import '@mesh\/core\/src\/errors'/);
    expect(out).toMatch(/does not declare it/);
    expect(out).toMatch(/relative import '..\/..\/core\/src\/index' leaves package/);
  });

  it('reports import cycles between packages', () => {
    const root = workspace({
      a: { kind: 'lib', deps: ['@mesh/b'], files: { 'index.ts': "import '@mesh/b';\n" } },
      b: { kind: 'lib', deps: ['@mesh/a'], files: { 'index.ts': "import '@mesh/a';\n" } },
    });
    expect(check(root).join('\n')).toMatch(/import cycle: @mesh\/a -> @mesh\/b -> @mesh\/a/);
  });

  it('ignores import-looking text in comments', () => {
    expect(importsOf("// import x from '@mesh/istiod'\n/* import '@mesh/a' */\nimport y from 'node:fs';\n")).toEqual(['node:fs']);
  });
});
