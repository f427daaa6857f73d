/**
 * The expression facade the workflow engines use (st2-reference.md §6.1 "Expressions" and
 * "Functions"): walks values recursively, sends `<% %>` strings to YAQL and `{{ }}` / `{% %}`
 * strings to Jinja, and supplies orquesta's and StackStorm's workflow functions to both.
 */
import yaml from 'js-yaml';
import { SquallError } from '../../errors.js';
import { loadYaml } from '../../yaml.js';
import { YaqlSyntaxError, evaluateYaql, parseYaql } from './yaql/index.js';
import {
  evaluateJinja,
  hasJinja,
  jinjaExpressionValue,
  scanTemplate,
  singleExpression,
  st2Filters,
} from './jinja/index.js';

export { evaluateYaql, parseYaql, evaluateJinja, hasJinja };
export { pyRepr } from './jinja/index.js';

export interface ExpressionScope {
  /** Workflow variables visible to the expression (input, vars, published values). */
  ctx: Record<string, unknown>;
  /** The task the expression is evaluated for (transitions, retry, task input). */
  currentTask?: { id: string; route: number; result?: unknown; status?: string };
  /** The current with-items item, boxed so that an item whose value is null still counts. */
  item?: { value: unknown };
  /** Status of the last instance of a task on the current route (or any route). */
  taskStatus?: (taskId: string) => string | undefined;
  /**
   * StackStorm's task(name, route) record. The name defaults to the current task, the route to
   * the current task's (0 outside a task).
   */
  task?: (name: string | undefined, route: number, current?: { id: string; route: number }) => unknown;
  /** Synchronous datastore lookup for st2kv(); undefined means "no such key". */
  st2kv?: (key: string, decrypt: boolean) => unknown;
  /** Decrypts values for Jinja's `decrypt_kv` filter. */
  decrypt?: (cipher: string) => string;
  /** Extra functions (tests, runners). */
  functions?: Record<string, (...args: unknown[]) => unknown>;
}

const YAQL_RE = /<%([\s\S]*?)%>/g;
const YAQL_WHOLE_RE = /^\s*<%([\s\S]*?)%>\s*$/;
const JINJA_RE = /\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}/;

export function isYaql(s: string): boolean {
  return /<%[\s\S]*?%>/.test(s);
}

export function isJinja(s: string): boolean {
  return JINJA_RE.test(s);
}

export function hasExpression(value: unknown): boolean {
  if (typeof value === 'string') return isYaql(value) || isJinja(value);
  if (Array.isArray(value)) return value.some(hasExpression);
  if (value && typeof value === 'object')
    return Object.entries(value).some(([k, v]) => hasExpression(k) || hasExpression(v));
  return false;
}

/** Returns the individual expressions in a string, tagged by language. */
export function extractExpressions(
  s: string,
): Array<{ language: 'yaql' | 'jinja'; expression: string; body: string }> {
  const out: Array<{ language: 'yaql' | 'jinja'; expression: string; body: string }> = [];
  for (const m of s.matchAll(YAQL_RE)) out.push({ language: 'yaql', expression: m[0], body: m[1].trim() });
  for (const m of s.matchAll(/\{\{([\s\S]*?)\}\}|\{%([\s\S]*?)%\}/g)) {
    out.push({ language: 'jinja', expression: m[0], body: (m[1] ?? m[2] ?? '').trim() });
  }
  return out;
}

/** Python's str() of a value, because interpolated YAQL results are rendered the way orquesta does. */
export function pythonStr(value: unknown): string {
  if (typeof value === 'string') return value;
  return pythonRepr(value);
}

function pythonRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(value);
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(', ')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${pythonRepr(k)}: ${pythonRepr(v)}`)
      .join(', ')}}`;
  }
  return String(value);
}

function publicCtx(ctx: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(ctx)) if (!k.startsWith('__')) out[k] = v;
  return out;
}

function zip(...lists: unknown[]): unknown[][] {
  const arrays = lists.map((l) => (Array.isArray(l) ? l : []));
  const n = arrays.length === 0 ? 0 : Math.min(...arrays.map((a) => a.length));
  return Array.from({ length: n }, (_, i) => arrays.map((a) => a[i]));
}

/** The functions orquesta and StackStorm give workflow expressions, bound to one scope. */
export function workflowFunctions(scope: ExpressionScope): Record<string, (...args: unknown[]) => unknown> {
  const ctxFn = (...args: unknown[]): unknown => {
    if (args.length === 0 || args[0] === undefined) return publicCtx(scope.ctx);
    const name = String(args[0]);
    if (!(name in scope.ctx)) {
      throw new SquallError('EXPRESSION_VARIABLE_UNDEFINED', `The variable "${name}" is undefined.`, {
        variable: name,
      });
    }
    return scope.ctx[name];
  };
  const status = (): string | undefined => {
    const t = scope.currentTask;
    if (!t) return undefined;
    return t.status ?? scope.taskStatus?.(t.id);
  };
  const fns: Record<string, (...args: unknown[]) => unknown> = {};
  for (const [name, fn] of Object.entries(st2Filters as Record<string, unknown>)) {
    if (typeof fn === 'function') fns[name] = fn as (...args: unknown[]) => unknown;
  }
  const toJson = (v: unknown): string => JSON.stringify(v);
  const fromJson = (s: unknown): unknown => (typeof s === 'string' ? JSON.parse(s) : s);
  Object.assign(fns, {
    json_dump: fns.to_json_string ?? toJson,
    json_parse: fns.from_json_string ?? fromJson,
    yaml_dump: fns.to_yaml_string ?? ((v: unknown) => yaml.dump(v)),
    yaml_parse: fns.from_yaml_string ?? ((s: unknown) => loadYaml(String(s))),
    ctx: ctxFn,
    result: () => scope.currentTask?.result ?? null,
    succeeded: () => status() === 'succeeded',
    failed: () => ['failed', 'timeout', 'abandoned'].includes(status() ?? ''),
    completed: () => ['succeeded', 'failed', 'timeout', 'abandoned', 'canceled'].includes(status() ?? ''),
    // orquesta answers "null" (its unset status) for a task that has not run.
    task_status: (name: unknown) => scope.taskStatus?.(String(name)) ?? 'null',
    item: (...args: unknown[]) => {
      if (!scope.item) {
        throw new SquallError(
          'EXPRESSION_ITEM_UNDEFINED',
          'The current task is not set in the context for item().',
          {},
        );
      }
      if (args.length === 0 || args[0] === undefined) return scope.item.value;
      const key = String(args[0]);
      const v = scope.item.value;
      if (!v || typeof v !== 'object' || Array.isArray(v)) {
        throw new SquallError('EXPRESSION_ITEM_UNDEFINED', 'Item is not type of collections.abc.Mapping.', {
          key,
        });
      }
      if (!(key in (v as Record<string, unknown>))) {
        throw new SquallError('EXPRESSION_ITEM_UNDEFINED', `Item does not have key "${key}".`, { key });
      }
      return (v as Record<string, unknown>)[key];
    },
    zip,
    json: (s: unknown) => (typeof s === 'string' ? JSON.parse(s) : s),
    st2kv: (key: unknown, ...rest: unknown[]) => {
      let decrypt = false;
      let hasDefault = false;
      let dflt: unknown;
      // st2kv(key, decrypt?, default?) in YAQL; Jinja callers may pass an options object.
      if (rest.length === 1 && rest[0] && typeof rest[0] === 'object' && !Array.isArray(rest[0])) {
        const o = rest[0] as Record<string, unknown>;
        decrypt = Boolean(o.decrypt);
        if ('default' in o) {
          hasDefault = true;
          dflt = o.default;
        }
      } else {
        decrypt = Boolean(rest[0]);
        if (rest.length > 1) {
          hasDefault = true;
          dflt = rest[1];
        }
      }
      const k = String(key);
      const v = scope.st2kv?.(k, decrypt);
      if (v === undefined) {
        if (hasDefault) return dflt;
        // st2 names the key as stored: without `system.`, or `user:name` in the user's scope.
        const user = (scope.ctx.st2 as { user?: unknown } | undefined)?.user;
        const stored = k.startsWith('system.') ? k.slice('system.'.length) : `${String(user)}:${k}`;
        throw new SquallError(
          'EXPRESSION_KV_NOT_FOUND',
          `The key "${stored}" does not exist in the StackStorm datastore.`,
          { key: k },
        );
      }
      return v;
    },
    task: (...args: unknown[]) => {
      if (!scope.task)
        throw new SquallError('EXPRESSION_TASK_UNDEFINED', 'task() is not available here.', {});
      // task(name?, route?); named arguments (`route => 1`, `route=1`) arrive as a trailing object.
      const last = args[args.length - 1];
      const named =
        last && typeof last === 'object' && !Array.isArray(last)
          ? (args.pop() as Record<string, unknown>)
          : {};
      const name = args[0] ?? named.task_id;
      const route = args[1] ?? named.route;
      return scope.task(
        name === undefined || name === null ? undefined : String(name),
        route === undefined || route === null ? (scope.currentTask?.route ?? 0) : Number(route),
        scope.currentTask,
      );
    },
  });
  Object.assign(fns, scope.functions ?? {});
  return fns;
}

/**
 * The reason as orquesta prints it, `ExceptionClass: message`: YAQL's own exceptions by class,
 * and a failure inside a workflow function (task(), st2kv()) as st2's ExpressionEvaluationException.
 */
const FUNCTION_ERROR_CODES = new Set([
  'WORKFLOW_TASK_NOT_FOUND',
  'EXPRESSION_KV_NOT_FOUND',
  'KV_NOT_ENCRYPTED',
  'EXPRESSION_TASK_UNDEFINED',
]);

function pythonReason(reason: string, kind: unknown): string {
  if (kind === 'HostFunctionError') {
    const host = /^function "[^"]+" failed: ([\s\S]*)$/.exec(reason);
    return `ExpressionEvaluationException: ${host ? host[1] : reason}`;
  }
  if (typeof kind === 'string' && /^No\w+Exception$/.test(kind)) return `${kind}: ${reason}`;
  return reason;
}

type SquallErrorJson = { code?: string; message?: string; context?: Record<string, unknown> };

/** Messages in orquesta's words, since users compare workflow errors with st2's. */
function evaluationError(expression: string, err: unknown, language: string, fnError?: unknown): SquallError {
  const cause = err instanceof Error ? err.message : String(err);
  // A Python exception the template raised (TypeError of a comparison) reads as Jinja2's.
  const python = err instanceof SquallError ? (err.context.cause as SquallErrorJson | undefined) : undefined;
  const reason =
    python?.code === 'JINJA_PYTHON_TYPE_ERROR'
      ? `${String(python.context?.python)}: ${python.message}`
      : err instanceof SquallError && typeof err.context.reason === 'string'
        ? err.context.reason
        : cause;
  const kind = language === 'yaql' ? 'YaqlEvaluationException' : 'JinjaEvaluationException';
  const undefinedVar = /The variable "([^"]+)" is undefined/.exec(cause);
  // A workflow function (task(), st2kv()) that failed inside a Jinja template; YAQL marks its
  // own such failures HostFunctionError.
  const fnFailed = fnError instanceof SquallError && FUNCTION_ERROR_CODES.has(fnError.code);
  const kindOf = fnFailed ? 'HostFunctionError' : err instanceof SquallError ? err.context.kind : undefined;
  const missingKey = /key "?([^"]*?)"? is not in the dictionary/.exec(reason);
  let message: string;
  if (undefinedVar) {
    message = `${kind}: Unable to evaluate expression '${expression}'. VariableUndefinedError: The variable "${undefinedVar[1]}" is undefined.`;
  } else if (missingKey && language === 'yaql') {
    message = `${kind}: Unable to resolve key '${missingKey[1]}' in expression '${expression}' from context.`;
  } else {
    message = `${kind}: Unable to evaluate expression '${expression}'. ${pythonReason(reason, kindOf)}`;
  }
  return new SquallError('EXPRESSION_EVALUATION', message, {
    expression,
    language,
    cause: err instanceof SquallError ? err.toJSON() : cause,
  });
}

function evaluateString(s: string, scope: ExpressionScope): unknown {
  const yaqlHere = isYaql(s);
  const jinjaHere = isJinja(s);
  if (yaqlHere && jinjaHere) {
    throw new SquallError(
      'EXPRESSION_MIXED',
      `Expression '${s}' mixes YAQL (<% %>) and Jinja ({{ }}); use one language per string.`,
      {
        expression: s,
      },
    );
  }
  if (yaqlHere) {
    const functions = workflowFunctions(scope);
    const data = publicCtx(scope.ctx);
    const whole = YAQL_WHOLE_RE.exec(s);
    if (whole && !whole[1].includes('<%')) {
      try {
        return evaluateYaql(whole[1].trim(), { data, functions });
      } catch (err) {
        throw evaluationError(s, err, 'yaql');
      }
    }
    return s.replace(YAQL_RE, (full, body: string) => {
      try {
        return pythonStr(evaluateYaql(body.trim(), { data, functions }));
      } catch (err) {
        throw evaluationError(full, err, 'yaql');
      }
    });
  }
  if (jinjaHere) {
    // nunjucks keeps only the text of an error a function raised; remember the error itself, so
    // a failed task() or st2kv() reads as st2's ExpressionEvaluationException.
    let fnError: unknown;
    const functions = Object.fromEntries(
      Object.entries(workflowFunctions(scope)).map(([name, fn]) => [
        name,
        (...args: unknown[]) => {
          try {
            return fn(...args);
          } catch (err) {
            fnError = err;
            throw err;
          }
        },
      ]),
    );
    const data = publicCtx(scope.ctx);
    const context: Record<string, unknown> = { ...data, _: data, ...functions };
    const options = { functions, ...(scope.decrypt ? { decrypt: scope.decrypt } : {}) };
    try {
      // Without blocks orquesta evaluates each `{{ }}` on its own under StrictUndefined: one
      // that names nothing stays unrendered and the string fails as unresolved.
      const segments = scanTemplate(s);
      if (segments.every((x) => x.kind === 'text' || x.kind === 'expr')) {
        const exprs = segments.filter((x) => x.kind === 'expr' && x.body?.trim()).map((x) => x.body!.trim());
        const single = singleExpression(s);
        const values =
          single !== null
            ? [jinjaExpressionValue(single, context, options)]
            : exprs.map((e) => jinjaExpressionValue(e, context, options));
        const unresolved = exprs.filter((_, i) => values[i] === undefined);
        if (unresolved.length > 0) {
          throw new SquallError(
            'EXPRESSION_EVALUATION',
            `JinjaEvaluationException: There are unresolved variables: ${unresolved.join(', ')}`,
            { expression: s, language: 'jinja', unresolved },
          );
        }
        if (single !== null) return values[0];
      }
      return evaluateJinja(s, context, options);
    } catch (err) {
      if (err instanceof SquallError && err.code === 'EXPRESSION_EVALUATION') throw err;
      throw evaluationError(s, err, 'jinja', fnError);
    }
  }
  return s;
}

/** Evaluates every expression inside a value (strings, arrays and object keys/values). */
export function evaluateExpression(value: unknown, scope: ExpressionScope): unknown {
  if (typeof value === 'string') return evaluateString(value, scope);
  if (Array.isArray(value)) return value.map((v) => evaluateExpression(v, scope));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const key = hasExpression(k) ? String(evaluateString(k, scope)) : k;
      out[key] = evaluateExpression(v, scope);
    }
    return out;
  }
  return value;
}

/** Syntax-checks the expressions in a string; returns a message per broken expression. */
export function checkExpressionSyntax(
  s: string,
): Array<{ expression: string; message: string; language: 'yaql' | 'jinja' | null }> {
  const problems: Array<{ expression: string; message: string; language: 'yaql' | 'jinja' | null }> = [];
  const yaqlHere = isYaql(s);
  const jinjaHere = isJinja(s);
  if (yaqlHere && jinjaHere) {
    // orquesta's expression facade: a string of both languages belongs to neither (type null).
    problems.push({
      expression: s,
      language: null,
      message: 'Expression with multiple types is not supported.',
    });
    return problems;
  }
  if (yaqlHere) {
    for (const m of s.matchAll(YAQL_RE)) {
      try {
        parseYaql(m[1].trim());
      } catch (err) {
        problems.push({
          expression: m[0],
          language: 'yaql',
          message:
            err instanceof YaqlSyntaxError ? err.yaqlMessage : `Parse error: ${(err as Error).message}`,
        });
      }
    }
  }
  if (jinjaHere) {
    try {
      // Rendering with an empty context only surfaces template syntax errors; unknown names
      // render as undefined in Jinja, so runtime errors are ignored here.
      evaluateJinja(s, {}, { functions: {} });
    } catch (err) {
      const msg = (err as Error).message;
      if (
        /syntax|parse|unexpected|expected|unknown block|Template render error/i.test(msg) &&
        !/undefined|not a function|Unable to call/i.test(msg)
      ) {
        problems.push({ expression: s, language: 'jinja', message: msg });
      }
    }
  }
  return problems;
}

/**
 * Names read through ctx().name / ctx(name) (YAQL and Jinja) or _.name (Jinja). `$.name` is not
 * counted: inside select()/where() `$` is the item, not the context.
 */
export function collectContextReferences(s: string): string[] {
  const names = new Set<string>();
  const patterns = [
    /ctx\(\s*\)\.(\w+)/g,
    /ctx\(\s*["'](\w+)["']\s*\)/g,
    /ctx\(\s*(\w+)\s*\)/g,
    /\b_\.(\w+)/g,
  ];
  for (const expr of extractExpressions(s)) {
    for (const re of patterns) {
      for (const m of expr.expression.matchAll(re)) names.add(m[1]);
    }
  }
  return [...names];
}
