import yaml from 'js-yaml';
import type { ApiClient } from './client.js';

export type Execution = Record<string, any>;

export const EXECUTION_COLUMNS = [
  'id',
  'action.ref',
  'context.user',
  'status',
  'start_timestamp',
  'end_timestamp',
];
const DONE = new Set(['succeeded', 'failed', 'timeout', 'canceled', 'abandoned']);

export function isDone(status: string): boolean {
  return DONE.has(status);
}

/** A readable summary of an execution, like `st2 execution get`. */
export function describeExecution(e: Execution): string {
  const lines = [
    `id: ${e.id}`,
    `action.ref: ${e.action?.ref}`,
    `parameters: ${Object.keys(e.parameters ?? {}).length ? '' : 'None'}`,
  ];
  for (const [k, v] of Object.entries(e.parameters ?? {})) {
    // A value of several lines (csv.parse's data, a script) as a YAML block: printed raw, its
    // second line landed at the left margin, among the execution's own fields.
    if (typeof v === 'string' && v.includes('\n')) {
      const block = yaml
        .dump({ [k]: v }, { lineWidth: -1 })
        .trimEnd()
        .split('\n');
      lines.push(...block.map((l) => `  ${l}`));
    } else lines.push(`  ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  }
  const elapsed =
    e.elapsed_seconds !== undefined ? ` (${Math.round(Number(e.elapsed_seconds) * 10) / 10}s elapsed)` : '';
  lines.push(`status: ${e.status}${elapsed}`);
  lines.push(`start_timestamp: ${e.start_timestamp}`);
  if (e.end_timestamp) lines.push(`end_timestamp: ${e.end_timestamp}`);
  if (e.result !== undefined) {
    lines.push('result:');
    const dumped =
      typeof e.result === 'object' && e.result !== null
        ? yaml.dump(e.result, { lineWidth: -1, noRefs: true })
        : `${String(e.result)}\n`;
    lines.push(
      ...dumped
        .trimEnd()
        .split('\n')
        .map((l) => `  ${l}`),
    );
  }
  return lines.join('\n') + '\n';
}

/**
 * Waits for an execution to finish, showing progress on a terminal: status changes and new output
 * lines as they arrive. Returns the final record.
 */
export async function followExecution(
  client: ApiClient,
  id: string,
  options: { showOutput: boolean },
): Promise<Execution> {
  let lastStatus = '';
  let shown = 0;
  let delay = 100;
  const tty = process.stderr.isTTY;
  for (;;) {
    const { body: e } = await client.request<Execution>('get', `/api/v1/executions/${id}`);
    if (e.status !== lastStatus) {
      if (tty) process.stderr.write(`\r\x1b[2K${e.action?.ref}: ${e.status}…`);
      lastStatus = e.status;
    }
    if (options.showOutput) {
      const out = await client.request<string>('get', `/api/v1/executions/${id}/output`);
      const text = typeof out.body === 'string' ? out.body : '';
      if (text.length > shown) {
        if (tty) process.stderr.write('\r\x1b[2K');
        process.stderr.write(text.slice(shown));
        shown = text.length;
      }
    }
    if (isDone(e.status)) {
      if (tty) process.stderr.write('\r\x1b[2K');
      return e;
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 1.5, 1000);
  }
}
