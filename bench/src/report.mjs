// Markdown for docs/performance.md: one section per sub-target between markers, so running one target
// rewrites only its own section and keeps the others from their last run.
import fs from 'node:fs';
import { l4Goals } from './l4-summary.mjs';

const fmt = (v, digits = 2) => (v == null || !Number.isFinite(v) ? '—' : Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(digits));
const fx = (v) => (v == null ? '—' : `${v.toFixed(2)}x`);

const COLUMNS = {
  bulk1: [['gbps', 'Gbit/s', 'higher'], ['pairCpuMsPerGB', 'CPU ms/GB (pair)', 'lower']],
  bulk8: [['gbps', 'Gbit/s', 'higher'], ['pairCpuMsPerGB', 'CPU ms/GB (pair)', 'lower']],
  connrate: [['connPerS', 'conn/s', 'higher'], ['pairCpuUsPerConn', 'CPU us/conn (pair)', 'lower']],
  rr: [['rps', 'req/s', 'higher'], ['maxProxyCpuUsPerReq', 'CPU us/req (busier proxy)', 'lower'], ['pairCpuUsPerReq', 'CPU us/req (pair)', 'lower']],
  fixed: [['p50Us', 'p50 us', 'lower'], ['p90Us', 'p90 us', 'lower'], ['p99Us', 'p99 us', 'lower'], ['addedP50Us', 'added p50 us', 'lower'], ['addedP99Us', 'added p99 us', 'lower'], ['maxProxyCpuUsPerReq', 'CPU us/req (busier proxy)', 'lower']],
  idle: [['idleRssMB', 'RSS idle MB (larger proxy)', 'lower'], ['loadedRssMB', 'RSS loaded MB (larger proxy)', 'lower'], ['open', 'connections open', '']],
};
// The peer each measurement's ratio column compares against (the goal peer), besides the floor.
const REF = { bulk1: 'stunnel', bulk8: 'stunnel', connrate: 'haproxy', rr: 'haproxy', fixed: 'haproxy', idle: 'haproxy' };

function measurementTable(m, s, peers) {
  const cols = COLUMNS[m.id];
  const lead = cols[0][0];
  const ref = REF[m.id];
  const head = ['peer', ...cols.map((c) => c[1]), `${cols[0][1]} / direct`, `${cols[0][1]} / ${ref}`];
  const rows = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const [name, p] of Object.entries(peers)) {
    if (!p.available) {
      rows.push(`| ${name} | not available: ${p.reason.replace(/\|/g, '/')} |${cols.map(() => '').join(' |')} | |`);
      continue;
    }
    const v = s[m.id]?.[name] ?? {};
    const errs = v.errors?.length ? ` (errors: ${v.errors.length}: ${v.errors[0].slice(0, 80).replace(/\|/g, '/')})` : '';
    const showRatio = m.id !== 'fixed' && m.id !== 'idle';
    const r = (other) => (showRatio && v[lead] != null && s[m.id]?.[other]?.[lead] ? fx(v[lead] / s[m.id][other][lead]) : '—');
    rows.push(`| ${name}${errs} | ${cols.map((c) => fmt(v[c[0]])).join(' | ')} | ${r('direct')} | ${r(ref)} |`);
  }
  return `### ${m.title}\n\n${rows.join('\n')}\n`;
}

export function renderL4(run) {
  const { result, summary, machine, command, date, notes } = run;
  const goals = l4Goals(summary, result.sizes);
  const goalRows = goals.map((g) => `| ${g.goal} | ${fmt(g.value)} ${g.note} | ${g.met == null ? 'no data' : g.met ? 'met' : 'not met'} |`);
  return [
    `## L4: ztunnel pair vs stunnel and HAProxy TLS pairs`,
    '',
    `- Date: ${date}`,
    `- Machine: ${machine.nproc} CPUs (${machine.cpu}), kernel ${machine.kernel}, node ${machine.node}`,
    `- Command: \`${command}\``,
    `- Rounds: ${result.sizes.rounds}, alternating peers within each measurement; figures are medians over rounds.`,
    `- Upstream HTTP server: ${result.upstream.http}. ${notes}`,
    '',
    '### Goals (from the ztunnel issue)',
    '',
    '| goal | this run | result |',
    '|---|---|---|',
    ...goalRows,
    '',
    ...result.measurements.map((m) => measurementTable(m, summary, result.peers)),
  ].join('\n');
}

export function writeSection(docPath, target, markdown, header) {
  const start = `<!-- bench:${target}:start -->`;
  const end = `<!-- bench:${target}:end -->`;
  let doc = fs.existsSync(docPath) ? fs.readFileSync(docPath, 'utf8') : `${header}\n`;
  const block = `${start}\n${markdown.trim()}\n${end}`;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  doc = i >= 0 && j > i ? doc.slice(0, i) + block + doc.slice(j + end.length) : `${doc.trimEnd()}\n\n${block}\n`;
  fs.writeFileSync(docPath, doc);
}
