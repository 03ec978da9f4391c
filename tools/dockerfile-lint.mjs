#!/usr/bin/env node
// A small Dockerfile checker (hadolint is not available here). Rules:
//   DL-FROM-PIN   every FROM names an explicit tag or digest, never :latest
//   DL-FROM-STAGE COPY --from=<name> refers to an earlier stage (or a pinned image)
//   DL-ADD-URL    no ADD of a URL (fetch in a RUN step you can pin and verify)
//   DL-ENTRYPOINT ENTRYPOINT/CMD in exec (JSON array) form, so signals reach node as PID 1
//   DL-USER       the final stage sets USER; images listed as non-root must not run as 0/root
// Usage: node tools/dockerfile-lint.mjs [--non-root=istiod,waypoint] <Dockerfile>...
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Joins continuation lines and drops comments; returns [{ line, instr, args }]. */
export function parseDockerfile(text) {
  const out = [];
  let buf = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (buf === '' && (line === '' || line.startsWith('#'))) return;
    if (buf === '') start = i + 1;
    buf += (buf ? ' ' : '') + line.replace(/\\$/, '').trim();
    if (line.endsWith('\\')) return;
    const m = /^(\S+)\s*(.*)$/.exec(buf);
    if (m) out.push({ line: start, instr: m[1].toUpperCase(), args: m[2] });
    buf = '';
  });
  return out;
}

/** Returns a list of { line, rule, message }; empty means clean. */
export function lintDockerfile(text, { nonRoot = false } = {}) {
  const problems = [];
  const stages = [];
  let lastUser;
  const add = (line, rule, message) => problems.push({ line, rule, message });
  for (const { line, instr, args } of parseDockerfile(text)) {
    if (instr === 'FROM') {
      const parts = args.split(/\s+/).filter((p) => !p.startsWith('--'));
      const image = parts[0] ?? '';
      const pinned = image.includes('@sha256:') || (/:[^/]+$/.test(image) && !image.endsWith(':latest'));
      if (!stages.includes(image) && !pinned) add(line, 'DL-FROM-PIN', `FROM ${image}: pin a tag or digest (not latest)`);
      if (parts[1]?.toUpperCase() === 'AS' && parts[2]) stages.push(parts[2]);
      lastUser = undefined;
    } else if (instr === 'COPY') {
      const from = /--from=(\S+)/.exec(args)?.[1];
      if (from !== undefined && !stages.includes(from) && !/^\d+$/.test(from) && !/:[^/]+$/.test(from)) {
        add(line, 'DL-FROM-STAGE', `COPY --from=${from}: no earlier stage is named ${from}`);
      }
    } else if (instr === 'ADD') {
      if (/\b(https?|ftp):\/\//.test(args)) add(line, 'DL-ADD-URL', 'ADD of a URL: download in RUN with a checksum instead');
    } else if (instr === 'ENTRYPOINT' || instr === 'CMD') {
      let ok = false;
      try { ok = Array.isArray(JSON.parse(args)); } catch { ok = false; }
      if (!ok) add(line, 'DL-ENTRYPOINT', `${instr} must use exec form: ${instr} ["node", "/app/x.mjs"]`);
    } else if (instr === 'USER') {
      lastUser = args.trim();
    }
  }
  if (stages.length === 0 && problems.length === 0 && !text.includes('FROM')) add(0, 'DL-FROM-PIN', 'no FROM');
  if (lastUser === undefined) add(0, 'DL-USER', 'the final stage must set USER explicitly');
  else if (nonRoot && /^(0|root)(:|$)/.test(lastUser)) add(0, 'DL-USER', `image must run as non-root, found USER ${lastUser}`);
  return problems;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const nonRootArg = process.argv.find((a) => a.startsWith('--non-root='));
  const nonRoot = new Set((nonRootArg?.slice('--non-root='.length) ?? '').split(',').filter(Boolean));
  let failed = false;
  for (const file of process.argv.slice(2).filter((a) => !a.startsWith('--'))) {
    const component = file.split('/').at(-2) ?? '';
    for (const p of lintDockerfile(fs.readFileSync(file, 'utf8'), { nonRoot: nonRoot.has(component) })) {
      process.stderr.write(`${file}:${p.line} ${p.rule} ${p.message}\n`);
      failed = true;
    }
  }
  process.exit(failed ? 1 : 0);
}
