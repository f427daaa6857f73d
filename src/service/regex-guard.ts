import v8 from 'node:v8';

let guarded = false;

/**
 * Bounds the time any one regular expression can take in this process.
 *
 * Rule criteria (`regex`, `iregex`, `matchregex`), Jinja and YAQL regex functions and alias formats
 * run patterns that users write against payloads that anyone who can post a webhook or a chat
 * message chooses. V8's backtracking engine takes exponential time on patterns like `(a+)+$`, and
 * a render or a criteria check is synchronous: one webhook would freeze every part of the server.
 * Python-pattern tests go through pyRegexTest, and Jinja's and YAQL's searches, replaces and splits
 * through pyRegexMatches (workflows/expressions/jinja/linear-regex.ts), which run them on a
 * linear-time engine (V8's, else RE2) whatever this flag says. This bounds the rest: patterns RE2
 * cannot run (lookarounds, back-references) and alias formats. With this V8 flag a match that
 * backtracks too much is re-run on V8's linear-time engine, which gives the same answer, but only
 * for a RegExp that engine can run: none with ignore-case or group offsets (`i`, `d` flags),
 * lookarounds or back-references, which keep backtracking (alias formats are `d`: their
 * lookaround-free precheck is what bounds them; Python patterns that reach backtracking run
 * within a time budget, workflows/expressions/jinja/regex-budget.ts). It applies to patterns compiled after it is set,
 * so it is set before anything loads content.
 */
export function guardRegexBacktracking(): void {
  if (guarded) return;
  guarded = true;
  v8.setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
}
