import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

const TESTDATA_DIR = join(dirname(fileURLToPath(import.meta.url)), 'testdata');

/** Compares `actual` with testdata/<name>.golden exactly; REFRESH_GOLDEN=1 rewrites the file instead. */
export function expectGolden(name: string, actual: string): void {
  const file = join(TESTDATA_DIR, `${name}.golden`);
  if (process.env['REFRESH_GOLDEN'] === '1') {
    mkdirSync(TESTDATA_DIR, { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  if (!existsSync(file)) throw new Error(`missing golden file ${file}; run with REFRESH_GOLDEN=1 to create it`);
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

export function readGolden(name: string): string {
  return readFileSync(join(TESTDATA_DIR, `${name}.golden`), 'utf8');
}
