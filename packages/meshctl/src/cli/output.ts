import { stringify } from 'yaml';

export type OutputFormat = 'text' | 'json' | 'yaml';

/** Structured output for -o json|yaml; `text` renders with the command's own formatter. */
export function render(format: OutputFormat, value: unknown, text: () => string): string {
  if (format === 'json') return JSON.stringify(value, null, 2) + '\n';
  if (format === 'yaml') return stringify(value);
  return text();
}

/** Aligned columns with an upper-case header row, like kubectl get. */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]! + 3)))
      .join('')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}
