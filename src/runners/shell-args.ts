import { SquallError } from '../errors.js';
import type { ParameterSpec } from './catalog.js';
import { getRunnerType } from './catalog.js';
import type { RunnerAction } from './types.js';

/**
 * Linux refuses a single argv string longer than MAX_ARG_STRLEN (32 pages = 128 KB); st2 checks
 * the same limit up front (MAX_PARAM_LENGTH) so the user gets a named error, not E2BIG.
 */
export const MAX_PARAM_LENGTH = 128 * 1024;

export interface ScriptArguments {
  named: string[];
  positional: string[];
  /** Named first, then positional, as st2 builds the command line (§1.2). */
  all: string[];
}

function specType(spec: ParameterSpec | undefined, value: unknown): string {
  const declared = spec?.type;
  if (typeof declared === 'string') return declared;
  if (Array.isArray(declared)) {
    const nonNull = declared.filter((t) => t !== 'null');
    if (nonNull.length === 1) return nonNull[0];
  }
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** st2's positional serialisation (§1.2): bool 1/0, array comma-joined, object JSON, missing "". */
export function serializePositional(spec: ParameterSpec | undefined, value: unknown): string {
  if (value === undefined || value === null) return '';
  switch (specType(spec, value)) {
    case 'boolean':
      return value ? '1' : '0';
    case 'array':
      return Array.isArray(value)
        ? value.map((v) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v))).join(',')
        : String(value);
    case 'object':
      return typeof value === 'object' ? JSON.stringify(value) : String(value);
    case 'null':
      return '';
    default:
      return typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
}

function serializeNamed(value: unknown): string {
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}

/**
 * Builds a script's arguments from the action's (non-runner) parameters: parameters with a
 * `position` are positional, ordered by position; the others are passed as
 * `<kwarg_op><name>=<value>`. As in st2, a named boolean true is passed as the bare flag, a named
 * false, null or empty string is left out.
 */
export function buildScriptArguments(
  action: RunnerAction,
  params: Record<string, unknown>,
  kwargOp: string,
): ScriptArguments {
  const runnerParams = getRunnerType(action.runner_type)?.runner_parameters ?? {};
  const positionalNames = Object.entries(action.parameters)
    .filter(([name, spec]) => typeof spec.position === 'number' && !(name in runnerParams))
    .sort((a, b) => (a[1].position as number) - (b[1].position as number))
    .map(([name]) => name);
  const positionalSet = new Set(positionalNames);

  const positional: string[] = [];
  for (const name of positionalNames) {
    const arg = serializePositional(action.parameters[name], params[name]);
    assertArgumentSize(arg, name, action.ref);
    positional.push(arg);
  }
  const named: string[] = [];
  for (const [name, value] of Object.entries(params)) {
    if (positionalSet.has(name) || name in runnerParams) continue;
    if (value === undefined || value === null || value === '' || value === false) continue;
    const arg = value === true ? `${kwargOp}${name}` : `${kwargOp}${name}=${serializeNamed(value)}`;
    assertArgumentSize(arg, name, action.ref);
    named.push(arg);
  }

  const all = [...named, ...positional];
  return { named, positional, all };
}

export function assertArgumentSize(arg: string, parameter: string, actionRef: string): void {
  const bytes = Buffer.byteLength(arg);
  if (bytes <= MAX_PARAM_LENGTH) return;
  throw new SquallError(
    'RUNNER_PARAMETER_TOO_LARGE',
    `parameter "${parameter}" of action "${actionRef}" is ${bytes} bytes; shell arguments are limited to ${MAX_PARAM_LENGTH} bytes (pass large data through a file or the datastore)`,
    { action: actionRef, parameter, bytes, limit: MAX_PARAM_LENGTH },
  );
}

/** POSIX single-quote quoting, for command strings that a shell will parse (remote runners, sudo). */
export function shellQuote(value: string): string {
  if (value === '') return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'"'"'`)}'`;
}
