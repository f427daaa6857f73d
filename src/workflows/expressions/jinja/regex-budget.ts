import vm from 'node:vm';
import { SquallError } from '../../../errors.js';

/**
 * The most one backtracking match may take. Only patterns no linear-time engine runs (lookarounds,
 * back-references: a rule author's `(?=a)(a+)+$`) reach it; V8's backtrack limit cannot move
 * those to its linear engine, and they took exponential time: 24 characters 0.3 s, 30 about 20 s,
 * 34 minutes, with the event loop held throughout by one webhook. An ordinary lookaround over a
 * megabyte of text takes milliseconds.
 */
export const REGEX_BUDGET_MS = 200;

// One context for every bounded run: creating one costs about a millisecond. Nothing runs in it
// but the call below, whose function (and everything it touches) belongs to this realm.
const sandbox = vm.createContext({ run: null as (() => unknown) | null });
const CALL = new vm.Script('run()');

/**
 * Runs `fn` (a backtracking match) with a time limit: Node's vm timeout has a watchdog thread stop
 * the isolate's JavaScript, a running regular expression included, which no check inside the
 * match could do. Costs ~35 µs a call (the watchdog), so it is kept for what may backtrack.
 * Throws REGEX_TIME_BUDGET past REGEX_BUDGET_MS, naming the pattern (cut) and the text's length.
 */
export function withinRegexBudget<T>(pattern: string, subject: string, fn: () => T): T {
  const outer = sandbox.run;
  sandbox.run = fn;
  try {
    return CALL.runInContext(sandbox, { timeout: REGEX_BUDGET_MS }) as T;
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw err;
    throw new SquallError(
      'REGEX_TIME_BUDGET',
      `the regular expression ${JSON.stringify(pattern.slice(0, 200))} took longer than ${REGEX_BUDGET_MS} ms on a text of ${subject.length} characters and was stopped (it backtracks: a lookaround or back-reference around nested repeats)`,
      { pattern: pattern.slice(0, 200), subject_chars: subject.length, budget_ms: REGEX_BUDGET_MS },
    );
  } finally {
    sandbox.run = outer;
  }
}
