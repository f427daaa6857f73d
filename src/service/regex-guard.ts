import v8 from 'node:v8';

let guarded = false;

/**
 * Bounds the time any one regular expression can take in this process.
 *
 * Rule criteria (`regex`, `iregex`, `matchregex`), Jinja and YAQL regex functions and alias formats
 * run patterns that users write against payloads that anyone who can post a webhook or a chat
 * message chooses. V8's backtracking engine takes exponential time on patterns like `(a+)+$`, and
 * a render or a criteria check is synchronous: one webhook would freeze every part of the server.
 * Python-pattern tests go through pyRegexTest (workflows/expressions/jinja/linear-regex.ts), which
 * runs them on a linear-time engine whatever this flag says; this bounds the rest (regex_replace and
 * regex_substring with ignore-case, YAQL's other regex functions, alias formats).
 * With this V8 flag a match that backtracks too much is re-run on V8's linear-time engine, which
 * gives the same answer (patterns with backreferences or lookarounds, which that engine cannot
 * run, keep backtracking). It applies to patterns compiled after it is set, so it is set before
 * anything loads content.
 */
export function guardRegexBacktracking(): void {
  if (guarded) return;
  guarded = true;
  v8.setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
}
