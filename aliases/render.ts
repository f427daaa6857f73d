/**
 * The pure part of chat acknowledgements and result messages (st2-reference.md §5.4, §5.5). The
 * layout follows st2's `chatops` default template; templates from `ack.format`/`result.format`
 * are rendered elsewhere (they need the Jinja engine).
 */

/** What result formatting needs from an execution record. */
export interface ExecutionLike {
  id: string;
  action: { ref: string; runner_type?: string };
  /** st2 executions carry the runner as `runner.name`; `action.runner_type` is used otherwise. */
  runner?: { name?: string };
  status: string;
  result?: unknown;
  start_timestamp?: string;
  end_timestamp?: string;
  elapsed_seconds?: number;
  web_url?: string;
}

const ACK_PHRASES = [
  'On it: running {ref}. Execution id {id}.',
  'Got it. {ref} is on its way, execution id {id}.',
  'Starting {ref} now (execution {id}).',
  'Consider it done soon: {ref} started as execution {id}.',
  'Rolling up my sleeves for {ref}. Your execution id is {id}.',
  'Queued {ref} for you; keep {id} handy as the execution id.',
];

/**
 * The acknowledgement posted when an alias has no `ack.format`: a friendly phrase naming the
 * action and the execution id (chosen from the id, so the same execution always gets the same
 * words), plus "(details available at <webUrl>/#/history/<id>/general)" when a web UI is known.
 */
export function defaultAckText(executionId: string, actionRef: string, webUrl?: string): string {
  let hash = 0;
  for (const ch of executionId) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  const phrase = ACK_PHRASES[hash % ACK_PHRASES.length]
    .replace('{ref}', actionRef)
    .replace('{id}', executionId);
  if (!webUrl) return phrase;
  return `${phrase} (details available at ${webUrl.replace(/\/+$/, '')}/#/history/${executionId}/general)`;
}

export interface FormattedResult {
  /** What to post: `fullText`, cut to `maxLength` when it is longer. */
  text: string;
  truncated: boolean;
  /** The whole message, e.g. to upload as a file when `truncated`. */
  fullText: string;
}

export interface FormatResultOptions {
  /** Longest text to post; 0 = no limit. Default 500 (hubot's ST2_MAX_MESSAGE_LENGTH). */
  maxLength?: number;
  /** Base URL of the web UI; adds a `web_url` line when the execution has none. */
  webUrl?: string;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function scalar(value: unknown): string {
  if (typeof value === 'string') return value.trim();
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** st2's `serialize` macro: `key: value`, nested mappings and multi-line strings indented below. */
function serialize(entries: Array<[string, unknown]>, indent = ''): string[] {
  const lines: string[] = [];
  for (const [key, value] of entries) {
    if (isMapping(value)) {
      lines.push(`${indent}${key}:`, ...serialize(Object.entries(value), indent + '  '));
    } else if (typeof value === 'string' && value.trim().includes('\n')) {
      lines.push(
        `${indent}${key}:`,
        ...value
          .trim()
          .split('\n')
          .map((l) => `${indent}  ${l}`),
      );
    } else if (Array.isArray(value) && JSON.stringify(value).length > 60) {
      lines.push(`${indent}${key}:`, ...value.map((v) => `${indent}  - ${scalar(v)}`));
    } else {
      lines.push(`${indent}${key}: ${scalar(value)}`);
    }
  }
  return lines;
}

/** Fields st2's template keeps, in order, dropping empty ones (so a 0 return code is not shown). */
function pick(result: Record<string, unknown>, keys: string[]): Array<[string, unknown]> {
  return keys.filter((k) => truthy(result[k])).map((k) => [k, result[k]]);
}

function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (isMapping(value)) return Object.keys(value).length > 0;
  return Boolean(value);
}

const SHELL_FIELDS = ['stdout', 'stderr', 'return_code', 'error'];
const PYTHON_FIELDS = ['result', 'stdout', 'stderr', 'exit_code'];

function orquestaErrors(errors: unknown): string[] {
  if (!Array.isArray(errors) || errors.length === 0) return [];
  const lines = ['errors:'];
  for (const error of errors) {
    if (isMapping(error)) {
      const where = error.task_id ? `[${scalar(error.task_id)}] ` : '';
      lines.push(`  - ${where}${scalar(error.message ?? error.type ?? error)}`);
    } else {
      lines.push(`  - ${scalar(error)}`);
    }
  }
  return lines;
}

function resultLines(runner: string, result: unknown): string[] {
  if (!isMapping(result)) return [scalar(result)];
  switch (runner) {
    case 'local-shell-cmd':
    case 'local-shell-script':
    case 'run-local':
    case 'run-local-script':
    case 'winrm-cmd':
    case 'winrm-ps-cmd':
    case 'winrm-ps-script':
      return serialize(pick(result, SHELL_FIELDS));
    case 'remote-shell-cmd':
    case 'remote-shell-script':
    case 'run-remote':
    case 'run-remote-script': {
      // A run that failed before reaching any host has the shell shape at the top level.
      if ('succeeded' in result && 'failed' in result) return serialize(pick(result, SHELL_FIELDS));
      const lines: string[] = [];
      for (const [host, value] of Object.entries(result)) {
        lines.push(
          `${host}:`,
          ...(isMapping(value) ? serialize(pick(value, SHELL_FIELDS), '  ') : [`  ${scalar(value)}`]),
        );
      }
      return lines;
    }
    case 'python-script':
    case 'run-python':
      return serialize(pick(result, PYTHON_FIELDS));
    case 'http-request':
    case 'http-runner':
      return serialize(pick(result, ['status_code', 'body']));
    case 'orquesta':
      return [...serialize(pick(result, ['output'])), ...orquestaErrors(result.errors)];
    default:
      return serialize(Object.entries(result));
  }
}

function secondsTaken(execution: ExecutionLike): number | undefined {
  if (typeof execution.elapsed_seconds === 'number') return execution.elapsed_seconds;
  if (execution.start_timestamp && execution.end_timestamp) {
    const ms = Date.parse(execution.end_timestamp) - Date.parse(execution.start_timestamp);
    if (Number.isFinite(ms) && ms >= 0) return ms / 1000;
  }
  return undefined;
}

function formatSeconds(seconds: number): string {
  return seconds < 10 ? String(Math.round(seconds * 10) / 10) : String(Math.round(seconds));
}

/**
 * The default chat message for a finished execution: "Action <ref> completed.", status, execution
 * id, web URL, how long it took, then the result shaped by runner (shell: stdout/stderr/return
 * code/error, per host for remote; python: result/stdout/stderr/exit code; http: status code and
 * body; orquesta: output and errors; anything else: every field).
 */
export function formatExecutionResult(
  execution: ExecutionLike,
  options: FormatResultOptions = {},
): FormattedResult {
  const runner = execution.runner?.name ?? execution.action.runner_type ?? '';
  const lines = [
    `Action ${execution.action.ref} completed.`,
    `status: ${execution.status}`,
    `execution: ${execution.id}`,
  ];
  const webUrl =
    execution.web_url ??
    (options.webUrl ? `${options.webUrl.replace(/\/+$/, '')}/#/history/${execution.id}/general` : undefined);
  if (webUrl) lines.push(`web_url: ${webUrl}`);
  const took = secondsTaken(execution);
  if (took !== undefined) lines.push(`Took ${formatSeconds(took)} s`);
  if (truthy(execution.result)) {
    const body = resultLines(runner, execution.result);
    if (body.length) lines.push('result:', '--------', ...body);
  }
  const fullText = lines.join('\n');
  const maxLength = options.maxLength ?? 500;
  if (maxLength <= 0 || fullText.length <= maxLength) return { text: fullText, truncated: false, fullText };

  const notice = (hidden: number) => `\n… (${hidden} more characters)`;
  let keep = Math.max(0, maxLength - notice(fullText.length).length);
  // Do not split a surrogate pair.
  if (keep > 0 && /[\uD800-\uDBFF]/.test(fullText[keep - 1])) keep--;
  const text = (fullText.slice(0, keep) + notice(fullText.length - keep)).slice(0, Math.max(maxLength, 0));
  return { text, truncated: true, fullText };
}

/** hubot-stackstorm's separator between a message's pretext and its body. */
export const PRETEXT_DELIMITER = '{~}';

/**
 * Splits a chat message at `{~}` as hubot-stackstorm does (utils.splitMessage): with the separator,
 * `pretext` is what comes before it and `text` what comes between it and any second one; without,
 * everything is `text`.
 */
export function splitPretext(message: string): { pretext: string; text: string } {
  const parts = message.split(PRETEXT_DELIMITER);
  return parts.length > 1 ? { pretext: parts[0], text: parts[1] } : { pretext: '', text: parts[0] };
}

/** The message as hubot's default adapter shows it: pretext and body on their own lines, no `{~}`. */
export function joinPretext(message: string): string {
  if (!message.includes(PRETEXT_DELIMITER)) return message;
  const { pretext, text } = splitPretext(message);
  return pretext && text ? `${pretext}\n${text}` : pretext || text;
}

/**
 * Why an execution failed, in a line or a few: the runner's `error` (per host for remote runs),
 * a workflow's errors, else the last lines of stderr. Undefined when the result says nothing.
 */
export function failureReason(execution: Pick<ExecutionLike, 'result'>): string | undefined {
  const result = execution.result;
  if (typeof result === 'string') return result.trim() || undefined;
  if (!isMapping(result)) return undefined;
  const own = (r: Record<string, unknown>): string | undefined => {
    if (typeof r.error === 'string' && r.error.trim()) return r.error.trim();
    if (isMapping(r.error) && typeof r.error.message === 'string') return r.error.message;
    return undefined;
  };
  const direct = own(result);
  if (direct) return direct;
  const errors = orquestaErrors(result.errors);
  if (errors.length)
    return errors
      .slice(1)
      .map((l) => l.replace(/^\s*-\s*/, ''))
      .join('\n');
  const hosts = Object.entries(result)
    .filter((e): e is [string, Record<string, unknown>] => isMapping(e[1]))
    .map(([host, r]) => [host, own(r) ?? lastLines(r.stderr)] as const)
    .filter(([, why]) => why);
  if (hosts.length) return hosts.map(([host, why]) => `${host}: ${why}`).join('\n');
  return lastLines(result.stderr);
}

function lastLines(value: unknown, n = 5): string | undefined {
  if (typeof value !== 'string' || !value.trim()) return undefined;
  return value.trim().split('\n').slice(-n).join('\n');
}

/**
 * What an execution printed, for a chat card or a file: stdout then stderr of a shell run (per
 * host for remote runs), else the result shaped as in the default message, without its header.
 */
export function executionOutput(execution: Pick<ExecutionLike, 'result' | 'runner' | 'action'>): string {
  const result = execution.result;
  const streams = (r: Record<string, unknown>) =>
    [r.stdout, r.stderr]
      .filter((s): s is string => typeof s === 'string' && s.trim() !== '')
      .map((s) => s.replace(/\s+$/, ''))
      .join('\n');
  if (isMapping(result)) {
    if (typeof result.stdout === 'string' || typeof result.stderr === 'string') return streams(result);
    const hosts = Object.entries(result).filter(
      (e): e is [string, Record<string, unknown>] =>
        isMapping(e[1]) && (typeof e[1].stdout === 'string' || typeof e[1].stderr === 'string'),
    );
    if (hosts.length > 0 && hosts.length === Object.keys(result).length)
      return hosts.map(([host, r]) => `${host}:\n${streams(r)}`.trimEnd()).join('\n');
  }
  if (!truthy(result)) return '';
  const runner = execution.runner?.name ?? execution.action.runner_type ?? '';
  return resultLines(runner, result).join('\n');
}
