/*
 * YAQL for Orquesta workflows (`<% ... %>`, st2-reference.md §6.1): parse, evaluate, inspect.
 * Semantics follow YAQL 3 as orquesta configures it (orquesta/expressions/yql.py: default
 * YaqlFactory engine, yaql.create_context() standard library, input frozen, output converted to
 * plain lists and dicts). See README.md in this folder for deliberate differences and gaps.
 */
import { SquallError } from '../../../errors.js';
import { withBuildBudget } from '../jinja/index.js';
import { YaqlEvaluationError, YaqlFailure } from './errors.js';
import { Evaluator, type HostFunction, Scope } from './evaluator.js';
import { parse, type YaqlNode } from './parser.js';
import { collectReferences, type YaqlReferences } from './references.js';
import { BUILTINS } from './stdlib.js';
import { fromPlain, toPlain, withDeadline, YAQL_TIME_LIMIT_MS } from './values.js';
import { textKeyedCache } from '../../../lru-map.js';

export { YaqlEvaluationError, YaqlSyntaxError } from './errors.js';
export type { YaqlNode } from './parser.js';
export type { YaqlReferences } from './references.js';

export interface YaqlEvaluateOptions {
  /** Bound to `$`. Plain JSON-like data (objects, arrays, strings, numbers, booleans, null). */
  data?: unknown;
  /**
   * Extra global functions (ctx(), result(), st2kv() … are provided this way by the workflow
   * engine). They shadow builtins of the same name. They receive plain JS arguments; `name => value`
   * arguments arrive together as one trailing plain object. Called as `x.f(a)` they receive (x, a).
   */
  functions?: Record<string, HostFunction>;
  /** Epoch ms after which evaluation stops (YAQL_DEADLINE); default YAQL_TIME_LIMIT_MS from now. */
  deadline?: number;
}

/** Parsed expressions by their text, the last 2,000 used, and 2 M of text (a parse holds ~20 times it). */
const cache = textKeyedCache<YaqlNode>(2000, 2 * 1024 * 1024);

/** Parses a YAQL expression (without the `<% %>` delimiters). Throws YaqlSyntaxError. */
export function parseYaql(expression: string): YaqlNode {
  const hit = cache.get(expression);
  if (hit) return hit;
  const node = parse(expression);
  cache.set(expression, node);
  return node;
}

/** Evaluates a YAQL expression; the result is plain JS (arrays, objects, scalars). */
export function evaluateYaql(expression: string, options: YaqlEvaluateOptions = {}): unknown {
  const ast = parseYaql(expression);
  const evaluator = new Evaluator(BUILTINS, options.functions ?? {});
  const scope = new Scope(null, new Map([['$', fromPlain(options.data)]]));
  try {
    // One budget for what the whole evaluation builds (shared with Jinja: budget.ts).
    return withDeadline(options.deadline ?? Date.now() + YAQL_TIME_LIMIT_MS, () =>
      withBuildBudget(() => toPlain(evaluator.eval(ast, scope)), 'YAQL_TOO_LARGE'),
    );
  } catch (err) {
    if (err instanceof SquallError && (err.code === 'YAQL_TOO_LARGE' || err.code === 'YAQL_DEADLINE'))
      throw new YaqlEvaluationError(expression, err.message, {
        kind: err.code === 'YAQL_DEADLINE' ? 'TimeoutError' : 'MemoryError',
        causeCode: err.code,
        causeContext: err.context,
      });
    if (err instanceof YaqlFailure) {
      const cause = err.details.cause;
      const wrapped = new YaqlEvaluationError(expression, err.message, {
        kind: err.kind,
        ...Object.fromEntries(Object.entries(err.details).filter(([k]) => k !== 'cause')),
        ...(cause instanceof SquallError ? { causeCode: cause.code, causeContext: cause.context } : {}),
      });
      if (cause !== undefined) (wrapped as Error & { cause?: unknown }).cause = cause;
      throw wrapped;
    }
    if (err instanceof RangeError) {
      throw new YaqlEvaluationError(
        expression,
        /Invalid (string|array) length/.test(err.message)
          ? `the expression built a string or list longer than JavaScript allows (${err.message})`
          : `the expression is too deeply nested or recursive (${err.message})`,
        { kind: 'RangeError' },
      );
    }
    throw err;
  }
}

/** Functions, methods and `ctx` variables an expression refers to (for workflow inspection). */
export function collectYaqlReferences(expression: string): YaqlReferences {
  return collectReferences(parseYaql(expression));
}
