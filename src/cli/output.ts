import type { Command } from 'commander';
import yaml from 'js-yaml';

export type OutputFormat = 'table' | 'json' | 'yaml';

export interface OutputFlags {
  json?: boolean;
  yaml?: boolean;
}

/** Adds st2's `-j/--json` and `-y/--yaml` to a command. */
export function withOutputOptions(cmd: Command): Command {
  return cmd.option('-j, --json', 'print JSON').option('-y, --yaml', 'print YAML');
}

export function outputFormat(flags: OutputFlags): OutputFormat {
  return flags.json ? 'json' : flags.yaml ? 'yaml' : 'table';
}

/** A value as one line of a table cell. */
export function cellText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value.replace(/\s*\n\s*/g, ' ');
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null))
    return value.join(', ');
  return JSON.stringify(value);
}

function truncate(text: string, width: number): string {
  if (text.length <= width) return text;
  if (width <= 1) return text.slice(0, width);
  return text.slice(0, width - 1) + '…';
}

function getPath(record: Record<string, unknown>, column: string): unknown {
  let node: unknown = record;
  for (const part of column.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

export function terminalWidth(): number {
  const fromEnv = Number(process.env.COLUMNS);
  if (Number.isInteger(fromEnv) && fromEnv > 20) return fromEnv;
  if (process.stdout.isTTY)
    return process.stdout.columns && process.stdout.columns > 20 ? process.stdout.columns : 120;
  // Piped output (scripts, grep) keeps whole values: a truncated id cannot be used.
  return Number.POSITIVE_INFINITY;
}

/**
 * Records as a table with the chosen columns (dotted paths allowed). When the table is wider
 * than `width`, the widest columns are narrowed first and their cells end with "…".
 */
export function renderTable(
  records: readonly Record<string, unknown>[],
  columns: readonly string[],
  width = terminalWidth(),
): string {
  const sep = ' | ';
  const rows = records.map((r) => columns.map((c) => cellText(getPath(r, c))));
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i].length)));
  const budget = Math.max(columns.length * 4, width - sep.length * (columns.length - 1) - 4);
  let total = widths.reduce((a, b) => a + b, 0);
  while (total > budget) {
    const widest = widths.indexOf(Math.max(...widths));
    if (widths[widest] <= 4) break;
    widths[widest]--;
    total--;
  }
  const line = (cells: string[]) =>
    '| ' + cells.map((cell, i) => truncate(cell, widths[i]).padEnd(widths[i])).join(sep) + ' |';
  const rule = '+' + widths.map((w) => '-'.repeat(w + 2)).join('+') + '+';
  return [rule, line([...columns]), rule, ...rows.map(line), rule].join('\n') + '\n';
}

/** One record as a two-column attribute/value table (st2's `get` view). */
export function renderRecord(
  record: Record<string, unknown>,
  attributes?: readonly string[],
  width = terminalWidth(),
): string {
  const keys = attributes ?? Object.keys(record);
  const rows = keys.map((k) => ({ attribute: k, value: getPath(record, k) }));
  return renderTable(rows, ['attribute', 'value'], width);
}

/** JSON, YAML or a table; `columns` picks the table columns of a list. */
export function formatOutput(
  data: unknown,
  options: { format: OutputFormat; columns?: readonly string[]; attributes?: readonly string[] },
): string {
  if (options.format === 'json') return JSON.stringify(data, null, 2) + '\n';
  if (options.format === 'yaml') return yaml.dump(data, { noRefs: true, lineWidth: -1 });
  if (Array.isArray(data)) {
    if (data.length === 0) return 'No matching items found.\n';
    const records = data as Record<string, unknown>[];
    const columns = options.columns ?? Object.keys(records[0]);
    return renderTable(records, columns);
  }
  if (data && typeof data === 'object')
    return renderRecord(data as Record<string, unknown>, options.attributes);
  return `${cellText(data)}\n`;
}

export function print(
  data: unknown,
  flags: OutputFlags,
  options: { columns?: readonly string[]; attributes?: readonly string[] } = {},
): void {
  process.stdout.write(formatOutput(data, { format: outputFormat(flags), ...options }));
}
