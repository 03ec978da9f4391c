import { expect } from 'vitest';
import { parseManifests } from '../manifests';
import type { ResourceIssue } from '../validate/issues';

export function expectValid(yaml: string): void {
  const r = parseManifests(yaml, 'test.yaml');
  expect(r.errors).toEqual([]);
  expect(r.objects.length).toBeGreaterThan(0);
}

/** Asserts exactly that the manifest fails with an error at `path` whose message contains `message`. */
export function expectError(yaml: string, path: string, message: string): ResourceIssue {
  const r = parseManifests(yaml, 'test.yaml');
  expect(r.objects).toEqual([]);
  const hit = r.errors.find((e) => e.path === path);
  expect(hit, `no error at ${path}; got ${JSON.stringify(r.errors.map((e) => [e.path, e.message]))}`).toBeDefined();
  expect(hit!.message).toContain(message);
  return hit!;
}
