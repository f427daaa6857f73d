/**
 * Rule criteria evaluation (st2-reference.md §4.1–4.2; st2's rules/filter.py).
 *
 * Criteria are ANDed. Each key is a payload lookup (`trigger.a.b`, `trigger.headers['X-Custom']`,
 * `trigger.body.items[0]`, with an optional `#suffix` so one field can be tested several times);
 * a missing key gives null. String patterns holding Jinja are rendered against the payload and
 * the system context, keeping native types when the pattern is a single `{{ expr }}`. An unknown
 * operator, a render failure or an operator TypeError is an error result — the rule does not
 * match and the caller records a failed enforcement — never an exception.
 */
import { errorMessage } from '../../errors.js';
import {
  evaluateJinja,
  hasJinja,
  queryJsonPath,
  renderTemplate,
  singleExpression,
  type JinjaOptions,
} from '../../workflows/expressions/jinja/index.js';
import {
  OperatorError,
  SEARCH_CONDITIONS,
  canonicalOperator,
  describeValue,
  getOperator,
  type OperatorContext,
} from './operators.js';

export {
  OPERATORS,
  OPERATOR_NAMES,
  SEARCH_CONDITIONS,
  OperatorError,
  canonicalOperator,
  describeValue,
  getOperator,
  parseDateUtc,
  pyCompare,
  pyContains,
  pyEquals,
  type OperatorFunction,
  type OperatorInfo,
} from './operators.js';

export interface CriterionSpec {
  /** Operator name or alias (case-insensitive). */
  type: string;
  pattern?: unknown;
  /** Only for `search`: any | all | any2any | all2any. */
  condition?: string;
}

export type Criteria = Record<string, CriterionSpec>;

export interface CriterionResult {
  key: string;
  operator: string;
  /** The pattern after rendering (the raw pattern when rendering failed). */
  pattern: unknown;
  /** The payload value the key selected (null when missing). */
  value: unknown;
  matched: boolean;
  /** Why the criterion could not be evaluated (unknown operator, render failure, TypeError). */
  error?: string;
}

export interface CriteriaVerdict {
  matched: boolean;
  results: CriterionResult[];
  /** The first criterion that did not match, for the rule tester's message. */
  failed?: { key: string; operator: string; pattern: unknown; value: unknown; reason: string };
}

export interface CriteriaOptions {
  /** System render context for patterns (e.g. `st2kv`); `trigger` is added from the payload. */
  context?: Record<string, unknown>;
  /** Clock for timediff_* operators. */
  now?: Date;
  /** Jinja options for pattern rendering (decrypt_kv). */
  jinja?: JinjaOptions;
  /** Evaluate every criterion even after one fails (rule tester). st2 stops at the first failure. */
  evaluateAll?: boolean;
}

/** Strips the `#anything` suffix st2 allows to make criteria keys unique. */
export function stripKeySuffix(key: string): string {
  const idx = key.indexOf('#');
  if (idx < 0) return key;
  // A '#' inside a quoted bracket (trigger.headers['#x']) is part of the key.
  const before = key.slice(0, idx);
  const quotes = (before.match(/['"]/g) ?? []).length;
  return quotes % 2 === 0 ? before : key;
}

/**
 * The value a criteria key selects in the payload (`prefix` is `trigger` for rules, `item` inside
 * `search`); null when missing or when the key is not a valid path.
 */
export function lookupPayloadKey(payload: unknown, key: string, prefix = 'trigger'): unknown {
  let matches: unknown[];
  try {
    matches = queryJsonPath({ [prefix]: payload }, stripKeySuffix(key).trim());
  } catch {
    return null;
  }
  const first = matches.length ? matches[0] : null;
  return first === undefined ? null : first;
}

/**
 * Renders a criteria pattern: non-strings as they are; a single `{{ expr }}` keeps its native
 * type (st2 renders with `| to_complex` and JSON-decodes); other templates render to strings.
 */
export function renderPattern(
  pattern: unknown,
  context: Record<string, unknown>,
  jinja: JinjaOptions = {},
): unknown {
  if (typeof pattern !== 'string' || !hasJinja(pattern)) return pattern;
  if (singleExpression(pattern) !== null) return evaluateJinja(pattern, context, jinja);
  return renderTemplate(pattern, context, jinja);
}

interface Evaluation {
  result: CriterionResult;
}

/** The render context, built only when a pattern holds Jinja (most criteria are plain values). */
type RenderContext = () => Record<string, unknown>;

function evaluateOne(
  key: string,
  spec: CriterionSpec,
  payload: unknown,
  prefix: string,
  renderContext: RenderContext,
  options: CriteriaOptions,
  opCtx: OperatorContext,
): Evaluation {
  const rawOperator = spec && typeof spec === 'object' ? spec.type : undefined;
  const operator = canonicalOperator(rawOperator);
  const value = lookupPayloadKey(payload, key, prefix);
  const base = { key, operator: operator ?? String(rawOperator), value };
  if (!spec || typeof spec !== 'object') {
    return {
      result: {
        ...base,
        pattern: undefined,
        matched: false,
        error: `criterion "${key}" must be a map with "type" and "pattern"`,
      },
    };
  }
  if (!operator) {
    return {
      result: {
        ...base,
        pattern: spec.pattern,
        matched: false,
        error: `Invalid operator: ${String(rawOperator)} (criterion "${key}")`,
      },
    };
  }
  if (operator === 'search')
    return { result: evaluateSearch(key, spec, value, renderContext, options, opCtx) };
  let pattern: unknown;
  try {
    pattern =
      typeof spec.pattern === 'string' && hasJinja(spec.pattern)
        ? renderPattern(spec.pattern, renderContext(), options.jinja)
        : spec.pattern;
  } catch (err) {
    return {
      result: {
        ...base,
        pattern: spec.pattern,
        matched: false,
        error: `Failed to render pattern of criterion "${key}": ${errorMessage(err)}`,
      },
    };
  }
  try {
    const fn = getOperator(operator);
    const matched = fn ? fn(value, pattern ?? null, opCtx) : false;
    return { result: { ...base, pattern, matched } };
  } catch (err) {
    const why = err instanceof OperatorError ? err.message : errorMessage(err);
    return {
      result: {
        ...base,
        pattern,
        matched: false,
        error: `Operator "${operator}" failed on criterion "${key}": ${why}`,
      },
    };
  }
}

function evaluateSearch(
  key: string,
  spec: CriterionSpec,
  value: unknown,
  renderContext: RenderContext,
  options: CriteriaOptions,
  opCtx: OperatorContext,
): CriterionResult {
  const base = { key, operator: 'search', pattern: spec.pattern, value };
  const condition = spec.condition;
  if (typeof condition !== 'string' || !(SEARCH_CONDITIONS as readonly string[]).includes(condition)) {
    return {
      ...base,
      matched: false,
      error: `The '${String(condition)}' search condition is not recognized, only ${SEARCH_CONDITIONS.map((c) => `'${c}'`).join(', ')} are allowed (criterion "${key}")`,
    };
  }
  const children = spec.pattern;
  if (!children || typeof children !== 'object' || Array.isArray(children)) {
    return {
      ...base,
      matched: false,
      error: `search criterion "${key}" needs a pattern that maps item.* keys to criteria`,
    };
  }
  const items = Array.isArray(value) ? value : value !== null && typeof value === 'object' ? [value] : null;
  if (items === null) {
    return {
      ...base,
      matched: false,
      error: `Operator "search" failed on criterion "${key}": the payload value must be a list, got ${describeValue(value)}`,
    };
  }
  let firstChildError: string | undefined;
  const itemMatches = items.map((item) => {
    let built: Record<string, unknown> | undefined;
    const ctx = () => (built ??= { ...renderContext(), item });
    const childResults = Object.entries(children as Criteria).map(([childKey, childSpec]) => {
      const { result } = evaluateOne(childKey, childSpec, item, 'item', ctx, options, opCtx);
      if (result.error && !firstChildError) firstChildError = result.error;
      return result.matched;
    });
    return condition === 'any' || condition === 'all'
      ? childResults.every(Boolean)
      : childResults.some(Boolean);
  });
  // Python's any()/all(): all() of an empty list is True, as in st2.
  const matched =
    condition === 'any' || condition === 'any2any' ? itemMatches.some(Boolean) : itemMatches.every(Boolean);
  return matched || !firstChildError ? { ...base, matched } : { ...base, matched, error: firstChildError };
}

function failureReason(r: CriterionResult): string {
  if (r.error) return r.error;
  return `criterion "${r.key}" (${r.operator} ${describeValue(r.pattern)}) did not match the payload value ${describeValue(r.value)}`;
}

/** The operators' clock, read only by timediff_* (a class: an object literal with a getter is slow to build). */
class Clock implements OperatorContext {
  constructor(private at?: Date) {}
  get now(): Date {
    return (this.at ??= new Date());
  }
}

/** Evaluates rule criteria against a trigger payload. Never throws for bad criteria. */
export function evaluateCriteria(
  criteria: Criteria | null | undefined,
  payload: unknown,
  options: CriteriaOptions = {},
): CriteriaVerdict {
  const results: CriterionResult[] = [];
  let failed: CriteriaVerdict['failed'];
  let context: Record<string, unknown> | undefined;
  const renderContext = () => (context ??= { ...(options.context ?? {}), trigger: payload });
  const opCtx: OperatorContext = new Clock(options.now);
  for (const [key, spec] of Object.entries(criteria ?? {})) {
    const { result } = evaluateOne(key, spec, payload, 'trigger', renderContext, options, opCtx);
    results.push(result);
    if (!result.matched) {
      failed ??= {
        key: result.key,
        operator: result.operator,
        pattern: result.pattern,
        value: result.value,
        reason: failureReason(result),
      };
      if (!options.evaluateAll) break;
    }
  }
  return failed ? { matched: false, results, failed } : { matched: true, results };
}
