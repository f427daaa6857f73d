import { SquallError } from '../../../errors.js';

/**
 * How much one render may build, counted in characters (and list items) that amplifying
 * operations are about to make.
 *
 * Anyone who may run an action writes templates (st2 renders `{{ }}` in live parameters, chat
 * `!sh` included), and some operations build far more than they are given: `'x' | center(10**9)`
 * or `'x'.padStart(10**9)` from a few characters. The render deadline cannot stop one call: it
 * runs synchronously until it has allocated gigabytes, and the heap limit then kills the whole
 * service. Each such operation is priced before it runs, against a budget per render (a template
 * could repeat a call that fits alone thousands of times); strings and lists read from data
 * (a large stdout, a result) cost nothing unless an operation multiplies them. YAQL (`<% %>`)
 * evaluations are charged the same way (code YAQL_TOO_LARGE).
 */
export const MAX_BUILD = 64 * 1024 * 1024;

/**
 * How many loop iterations one render may run, all its loops together. A loop that builds nothing
 * priced nothing, and one over data (a list `set` once, a webhook body) never reached a deadline
 * check: two nested loops over 3,000 items held the event loop 25 s whatever the deadline (about
 * 1 µs of CPU an iteration). Each loop is charged its length as it starts, so the count is exact
 * and costs nothing per iteration: at most about a second of CPU a render, on any surface.
 */
export const MAX_LOOP_ITERATIONS = 1_000_000;

interface Budget {
  left: number;
  /** The error code of a refusal: JINJA_TOO_LARGE or YAQL_TOO_LARGE. */
  code: string;
  iterations: number;
  /** The render's deadline (epoch ms), checked as each loop starts. */
  deadline?: number;
}

// Renders are synchronous, so the one in progress is the one to charge; a render inside a render
// (a filter that renders) gets its own and restores the outer one.
let current: Budget | null = null;

export function withBuildBudget<T>(fn: () => T, code = 'JINJA_TOO_LARGE', deadline?: number): T {
  const outer = current;
  current = { left: MAX_BUILD, code, iterations: MAX_LOOP_ITERATIONS, deadline };
  try {
    return fn();
  } finally {
    current = outer;
  }
}

/** Charges `size` characters or items that `what` is about to build; refuses past the budget. */
export function spendBuild(size: number, what: string): void {
  const budget = current ?? { left: MAX_BUILD, code: 'JINJA_TOO_LARGE', iterations: MAX_LOOP_ITERATIONS };
  if (!Number.isFinite(size) || size > budget.left)
    throw new SquallError(
      budget.code,
      `${what} would build ${Number.isFinite(size) ? Math.round(size).toLocaleString('en-US') : 'unboundedly many'} characters or items, more than one render may build (${MAX_BUILD.toLocaleString('en-US')})`,
      { what, size: Number.isFinite(size) ? Math.round(size) : null, limit: MAX_BUILD },
    );
  budget.left -= Math.max(0, size);
}

/** Charges the iterations of a loop about to run over `seq`; refuses past the budget or the deadline. */
export function spendIterations(seq: unknown): void {
  if (!current) return;
  const n =
    Array.isArray(seq) || typeof seq === 'string'
      ? seq.length
      : seq !== null && typeof seq === 'object'
        ? Object.keys(seq).length
        : 0;
  if (current.deadline !== undefined && Date.now() > current.deadline)
    throw new SquallError('JINJA_DEADLINE', 'rendering took longer than its time limit and was stopped', {
      deadline: new Date(current.deadline).toISOString(),
    });
  if (n > current.iterations)
    throw new SquallError(
      current.code,
      `a loop of ${n.toLocaleString('en-US')} items would run the render past ${MAX_LOOP_ITERATIONS.toLocaleString('en-US')} loop iterations, the most one render may run`,
      { what: 'for loop', size: n, limit: MAX_LOOP_ITERATIONS },
    );
  current.iterations -= n;
}

/** A count argument as the operation will read it (NaN, negatives and fractions as JS does). */
export function countArg(n: unknown): number {
  const k = Math.trunc(Number(n));
  return Number.isNaN(k) ? 0 : Math.max(0, k);
}

/** How many times `old` occurs in `text` (non-overlapping, as replace counts), at most `cap`. */
export function occurrences(text: string, old: string, cap = Infinity): number {
  if (old === '') return Math.min(text.length + 1, cap);
  let n = 0;
  for (let i = text.indexOf(old); i >= 0 && n < cap; i = text.indexOf(old, i + old.length)) n++;
  return n;
}

/** Prices `text` with `old` replaced by `replacement` (every time, or at most `cap` times). */
export function spendReplace(
  text: string,
  old: string,
  replacement: string,
  what: string,
  cap = Infinity,
): void {
  const n = occurrences(text, old, cap);
  if (replacement.length > old.length) spendBuild(n * (replacement.length - old.length), what);
}

/**
 * Refuses to work on a string or list already past the budget: concatenation (`~`, `+`) can grow
 * one without limit, cheaply, until a filter or method copies it whole.
 */
export function guardInput(value: unknown, what: string): void {
  const size = typeof value === 'string' || Array.isArray(value) ? value.length : 0;
  if (size > MAX_BUILD)
    throw new SquallError(
      current?.code ?? 'JINJA_TOO_LARGE',
      `${what} was given ${size.toLocaleString('en-US')} characters or items, more than one render may build (${MAX_BUILD.toLocaleString('en-US')})`,
      { what, size, limit: MAX_BUILD },
    );
}
