// Dockerfiles pass the lint rules, image names agree with the charts' defaults, and build.sh's dry run
// prints the docker commands without needing an engine.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { lintDockerfile } from './dockerfile-lint.mjs';

const root = path.resolve(import.meta.dirname, '..');
const IMAGES = { istiod: 'istiod', ztunnel: 'ztunnel', 'install-cni': 'cni', waypoint: 'gateway' };
const NON_ROOT = new Set(['istiod', 'waypoint']);

describe('dockerfile lint', () => {
  it.each(Object.keys(IMAGES))('images/%s/Dockerfile is clean', (image) => {
    const text = fs.readFileSync(path.join(root, 'images', image, 'Dockerfile'), 'utf8');
    expect(lintDockerfile(text, { nonRoot: NON_ROOT.has(image) })).toEqual([]);
  });

  it('flags each rule', () => {
    const bad = [
      'FROM node AS build', 'ADD https://example.invalid/x.tgz /x', 'FROM node:latest',
      'COPY --from=builder /a /b', 'USER 0', 'ENTRYPOINT node /app/x.mjs',
    ].join('\n');
    const rules = lintDockerfile(bad, { nonRoot: true }).map((p) => p.rule).sort();
    expect(rules).toEqual(['DL-ADD-URL', 'DL-ENTRYPOINT', 'DL-FROM-PIN', 'DL-FROM-PIN', 'DL-FROM-STAGE', 'DL-USER']);
    expect(lintDockerfile('FROM node:20-bookworm-slim\nENTRYPOINT ["node"]\n').map((p) => p.rule)).toEqual(['DL-USER']);
  });
});

describe('images/build.sh', () => {
  const version = parse(fs.readFileSync(path.join(root, 'charts', 'istiod', 'Chart.yaml'), 'utf8')).appVersion;

  it('--dry-run prints one docker build per image, tagged as the charts expect', () => {
    const out = execFileSync('bash', [path.join(root, 'images', 'build.sh'), '--dry-run'], { encoding: 'utf8' });
    for (const [image, chart] of Object.entries(IMAGES)) {
      const values = parse(fs.readFileSync(path.join(root, 'charts', chart, 'values.yaml'), 'utf8'));
      const chartVersion = parse(fs.readFileSync(path.join(root, 'charts', chart, 'Chart.yaml'), 'utf8')).appVersion;
      const ref = `${values.hub}/${values.image}:${values.tag || chartVersion}`;
      expect(out).toContain(`docker build -f images/${image}/Dockerfile -t ${ref} .`);
    }
    expect(out).toContain(`:${version}`);
  });

  it('without a Docker engine it exits with a clear message', () => {
    const r = spawnSync('bash', [path.join(root, 'images', 'build.sh')], { encoding: 'utf8', env: { ...process.env, PATH: '/usr/bin:/bin', DOCKER: 'docker-missing-for-test' } });
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/no Docker engine/);
  });
});
