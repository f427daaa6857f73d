/**
 * Python regex tests in linear time, for patterns matched against text that someone else chooses.
 *
 * A rule criterion's pattern is checked against webhook and sensor payloads. On a backtracking
 * engine (V8's, and Python's too) a pattern like `(a+)+$` takes exponential time on a crafted
 * payload, and a criteria check is synchronous: one webhook would hold the process. RE2's syntax is
 * Python's for everything but lookarounds and back-references, and it matches in linear time, so
 * patterns RE2 accepts run on it (re2js: pure JavaScript, no build). Patterns with those features
 * run on V8 (pyRegex), as they must; the service's V8 flag bounds those it can (see
 * service/regex-guard.ts).
 */
import { RE2JS } from 're2js';
import { pyRegex } from './pyregex.js';

export interface PyTestOptions {
  ignoreCase?: boolean;
  dotAll?: boolean;
  /** re.match: anchored at the start of the text. */
  anchored?: boolean;
}

/**
 * Compiling for RE2 costs far more than V8's RegExp, and a rule set may hold thousands of
 * distinct patterns (10,000 rules: ~1,400 regex criteria): keep that many, dropping the oldest.
 */
const CACHE_LIMIT = 10_000;
const cache = new Map<string, RE2JS | null>();

/** Python's `\Z` (the very end) is RE2's `\z`; an escaped backslash before a Z stays as it is. */
function toRe2Syntax(pattern: string): string {
  return pattern.replace(/(?<!\\)((?:\\\\)*)\\Z/g, '$1\\z');
}

function compileLinear(pattern: string, options: PyTestOptions): RE2JS | null {
  const key = `${options.ignoreCase ? 'i' : ''}${options.dotAll ? 's' : ''}\0${pattern}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  let re: RE2JS | null;
  try {
    re = RE2JS.compile(
      toRe2Syntax(pattern),
      (options.ignoreCase ? RE2JS.CASE_INSENSITIVE : 0) | (options.dotAll ? RE2JS.DOTALL : 0),
    );
  } catch {
    // Not RE2 syntax (a lookaround, a back-reference, verbose mode): V8 runs it below, and
    // reports it if it is no regular expression at all.
    re = null;
  }
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(key, re);
  return re;
}

/** re.search (or re.match with `anchored`) of a Python pattern: does it match `subject`? */
export function pyRegexTest(pattern: string, subject: string, options: PyTestOptions = {}): boolean {
  const re = compileLinear(pattern, options);
  if (!re)
    return pyRegex(pattern, {
      ignoreCase: options.ignoreCase,
      dotAll: options.dotAll,
      sticky: options.anchored,
    }).test(subject);
  const matches = (text: string) => {
    const m = re.matcher(text);
    return options.anchored ? m.lookingAt() : m.find();
  };
  if (matches(subject)) return true;
  // Python's `$` also matches just before a final newline; RE2's only at the very end.
  return (
    subject.endsWith('\n') && pattern.includes('$') && !/\\Z/.test(pattern) && matches(subject.slice(0, -1))
  );
}
