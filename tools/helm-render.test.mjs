// The renderer must behave like `helm template` for the features the charts use.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRenderer } from './helm-render.mjs';

let bin;
let dir;
beforeAll(() => {
  bin = buildRenderer();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'helm-render-test-'));
  const files = {
    'Chart.yaml': 'apiVersion: v2\nname: demo\nversion: 1.2.3\nappVersion: "9.9"\n',
    'values.yaml': 'port: 15012\nbig: 1000000\nname: x\nnested: {a: 1, b: 2}\nlist: [b, a]\nmsg: "{{ .Release.Name }}-tpl"\n',
    'files/extra.txt': 'hello from files\n',
    'templates/_helpers.tpl': '{{- define "demo.label" -}}app: {{ .Values.name }}{{- end }}\n',
    'templates/a.yaml': [
      'apiVersion: v1', 'kind: ConfigMap', 'metadata:', '  name: {{ .Release.Name }}', '  namespace: {{ .Release.Namespace }}',
      '  labels:', '    {{- include "demo.label" . | nindent 4 }}', 'data:',
      '  port: {{ .Values.port | quote }}', '  big: {{ .Values.big | quote }}', '  chart: {{ .Chart.Name }}-{{ .Chart.AppVersion }}',
      '  tpl: {{ tpl .Values.msg . }}', '  file: {{ .Files.Get "files/extra.txt" | trim | quote }}',
      '  yaml: {{ toYaml .Values.nested | quote }}', '  json: {{ toJson .Values.list | quote }}',
      '  kube: {{ .Capabilities.KubeVersion.Minor | quote }}', '  missing: "{{ .Values.nope }}"',
      '  template: {{ .Template.Name }}',
    ].join('\n') + '\n',
    'templates/b.yaml': '{{- if .Values.nested.b }}\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{ required "name is required" .Values.name }}\n{{- end }}\n',
  };
  for (const [f, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), text);
  }
}, 120_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const run = (...args) => execFileSync(bin, ['--namespace', 'ns1', ...args, 'rel', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('helm-render', () => {
  it('renders built-in objects and Helm functions like helm template', () => {
    const out = run();
    // Install order: Namespace before ConfigMap, whatever the file order.
    expect(out.indexOf('kind: Namespace')).toBeLessThan(out.indexOf('kind: ConfigMap'));
    expect(out).toContain('---\n# Source: demo/templates/a.yaml\napiVersion: v1\n');
    expect(out).toContain('  name: rel\n  namespace: ns1\n  labels:\n    app: x\n');
    expect(out).toContain('  port: "15012"\n');
    // Values go through JSON as in Helm, so large numbers print as floats.
    expect(out).toContain('  big: "1e+06"\n');
    expect(out).toContain('  chart: demo-9.9\n');
    expect(out).toContain('  tpl: rel-tpl\n');
    expect(out).toContain('  file: "hello from files"\n');
    expect(out).toContain('  yaml: "a: 1\\nb: 2"\n');
    expect(out).toContain('  json: "[\\"b\\",\\"a\\"]"\n');
    expect(out).toContain('  kube: "30"\n');
    expect(out).toContain('  missing: ""\n');
    expect(out).toContain('  template: demo/templates/a.yaml\n');
  });

  it('merges values files, --set typing and null deletion', () => {
    const extra = path.join(dir, 'extra-values.yaml');
    fs.writeFileSync(extra, 'name: fromfile\nnested: {b: null}\n');
    const out = run('--values', extra, '--set', 'port=99,big=007');
    expect(out).toContain('app: fromfile');
    expect(out).not.toContain('kind: Namespace');
    expect(out).toContain('port: "99"');
    expect(out).toContain('big: "007"');
  });

  it('fails on required values and on invalid YAML output', () => {
    expect(() => run('--set', 'name=')).toThrow(/name is required/);
    expect(() => run('--set', 'name=a: b: c')).toThrow(/YAML parse error/);
  });
});
