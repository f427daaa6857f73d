import { pyStr } from '../workflows/expressions/jinja/index.js';

/**
 * st2's default chat result message, as its chatops.format_execution_result renders its template
 * (st2 contrib/chatops/actions/templates/default.j2, Jinja2 with trim_blocks and lstrip_blocks)
 * for an execution whose alias has no `result.format`: byte for byte, blank lines and Python
 * values (`True`, `None`, `['a', 'b']`) included, because bots on the stream and content
 * (hubot-stackstorm, st2 rules and workflows) get this text. Squall's own chat threads keep their
 * layout (aliases/render.ts).
 *
 * Written from the template's behaviour, not Jinja: Squall's engine does not render the template
 * itself (a one-element tuple `('http-request',)`, and `trim` of a number or a boolean).
 */

/** What the template reads of an execution (st2's GET /executions/<id>). */
export interface St2ExecutionView {
  id?: unknown;
  action?: { ref?: unknown };
  runner?: { name?: unknown };
  status?: unknown;
  web_url?: unknown;
  elapsed_seconds?: unknown;
  result?: unknown;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Python's truth value of a JSON value. */
function truthy(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return Boolean(value);
}

/** Jinja2's `trim` of any value: Python's str(), stripped. */
const trimmed = (value: unknown): string => pyStr(value).trim();

/** The template's `serialize` macro: `key : value` lines, mappings nested two spaces deeper. */
function serialize(entries: Array<[string, unknown]>, prefix = ''): string {
  let out = '';
  for (const [key, value] of entries) {
    out += `${prefix}${key} : `;
    if (isMapping(value)) out += '\n' + serialize(Object.entries(value), prefix + '  ');
    else if (typeof value === 'string' && value.trim().split('\n').length > 1)
      // The template's indentation before the expression stays in the output.
      out += `      \n${prefix}  ${value.trim()}\n`;
    else out += `${trimmed(value)}\n`;
  }
  return out;
}

/** `iteritems(result) | selectattr('0', 'in', keys) | selectattr('1')`: the result's own order. */
function kept(result: unknown, keys: string[]): Array<[string, unknown]> {
  if (!isMapping(result)) return [];
  return Object.entries(result).filter(([k, v]) => keys.includes(k) && truthy(v));
}

/** Python's round(): halves to even. */
function pyRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * st2's to_human_time_from_seconds ("3m5s"). As st2's, it reads the day of the month of
 * 0001-01-01 plus the seconds (so whole months are not shown) and prints a fraction of a second as
 * microseconds.
 */
export function st2HumanTime(seconds: number): string {
  if (seconds === 0) return '0s';
  if (seconds < 1) return `${pyStr(seconds)}\u03BCs`;
  const at = new Date(0);
  at.setUTCFullYear(1, 0, 1);
  at.setUTCHours(0, 0, 0, 0);
  at.setTime(at.getTime() + pyRound(seconds) * 1000);
  const parts = [
    at.getUTCFullYear() - 1,
    at.getUTCDate() - 1,
    at.getUTCHours(),
    at.getUTCMinutes(),
    at.getUTCSeconds(),
  ];
  const first = parts.findIndex((p) => p !== 0);
  if (first < 0) return '0s';
  const units = ['y', 'd', 'h', 'm', 's'];
  return parts
    .slice(first)
    .map((p, i) => `${p}${units[first + i]}`)
    .join('');
}

const SHELL_KEYS = ['stdout', 'stderr', 'return_code', 'error'];

/** The result section's body, by runner, as the template lays it out. */
function resultBody(runner: unknown, result: unknown): string {
  if (runner === 'http-request') return `  ${serialize(isMapping(result) ? Object.entries(result) : [])}\n`;
  if (runner === 'python-script' || runner === 'windows-cmd' || runner === 'windows-script')
    return `${serialize(kept(result, ['result', 'stdout', 'stderr', 'exit_code']))}\n`;
  if (runner === 'remote-shell-cmd' || runner === 'remote-shell-script')
    return Object.entries(isMapping(result) ? result : {})
      .map(([host, value]) => `${host} : \n${serialize(kept(value, SHELL_KEYS), '  ')}\n`)
      .join('');
  if (runner === 'local-shell-cmd' || runner === 'local-shell-script')
    return `${serialize(kept(result, SHELL_KEYS))}\n`;
  return isMapping(result) ? `${serialize(Object.entries(result))}\n` : `${pyStr(result)}\n`;
}

/** st2's default result message for `execution` (see the module's comment). */
export function st2DefaultResultMessage(execution: St2ExecutionView): string {
  let out = `\nAction ${pyStr(execution.action?.ref)} completed.\nstatus : ${pyStr(execution.status)}\n`;
  out += `execution: ${pyStr(execution.id)}\n\n`;
  if (truthy(execution.web_url)) out += `web_url: ${pyStr(execution.web_url)}\n`;
  out += '\n';
  if (typeof execution.elapsed_seconds === 'number' && execution.elapsed_seconds)
    out += `Took ${st2HumanTime(execution.elapsed_seconds)} to complete.\n`;
  out += '\n';
  if (truthy(execution.result))
    out += `result :\n--------\n${resultBody(execution.runner?.name, execution.result)}`;
  return out;
}
