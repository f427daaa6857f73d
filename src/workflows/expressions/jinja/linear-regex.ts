/**
 * Python regex tests in linear time, for patterns matched against text that someone else chooses.
 *
 * A rule criterion's pattern is checked against webhook and sensor payloads. On a backtracking
 * engine (V8's default one, and Python's too) a pattern like `(a+)+$` takes exponential time on a
 * crafted payload, and a criteria check is synchronous: one webhook would hold the process. So
 * every Python-pattern test goes through `pyRegexTest`, and every search, replace, split and
 * find-all of Jinja's filters and YAQL's functions through `pyRegexMatches`, which run it on a
 * linear-time engine:
 *
 * 1. V8's own linear engine (`new RegExp(src, 'l')`, switched on below with
 *    `--enable-experimental-regexp-engine`): native, as fast as V8's usual engine on short texts.
 *    It runs the common subset: no ignore-case, no unicode mode, no lookarounds or back-references,
 *    no large counted repeats. A pattern is translated to it only when the translation keeps
 *    Python's meaning exactly (see `toLinearV8`); a text with characters outside the BMP goes to
 *    RE2 instead, since without unicode mode V8 would see each as two characters.
 * 2. RE2 (re2js, pure JavaScript, linear time): Python's syntax for everything but lookarounds and
 *    back-references; slower than V8 to compile and to match.
 * 3. Patterns neither accepts (lookarounds, back-references) run on V8's backtracking engine
 *    (pyRegex), as they must, each match within a time budget (regex-budget.ts): V8's flag
 *    (service/regex-guard.ts) cannot move such a pattern to its linear engine.
 */
import v8 from 'node:v8';
import { RE2JS } from 're2js';
import { pyRegex } from './pyregex.js';
import { leadingInlineFlags, translatePyRegex } from './pyregex-scan.js';
import { textKeyedCache, type LruMap } from '../../../lru-map.js';
import { withinRegexBudget } from './regex-budget.js';

export interface PyTestOptions {
  ignoreCase?: boolean;
  dotAll?: boolean;
  /** re.match: anchored at the start of the text. */
  anchored?: boolean;
}

/** What one pattern compiled to, for one set of options. */
interface Compiled {
  /** On V8's linear engine; null when the pattern is outside what it runs with Python's meaning. */
  v8: RegExp | null;
  /** For RE2: Python's `$` also matches just before a final newline, so test without it too. */
  dollar: boolean;
}

/**
 * Compiling for RE2 costs far more than V8's RegExp, and a rule set may hold thousands of
 * distinct patterns (10,000 rules: ~1,400 regex criteria): keep that many per option set, dropping
 * the oldest. One map per option set, keyed by the pattern itself: no key string built per test.
 */
const CACHE_LIMIT = 10_000;
/**
 * And that many pattern characters per map (a compiled pattern holds ~12 times its text; a
 * template in an execution's parameters can build and test thousands of distinct long patterns).
 * 10,000 rules' criteria patterns weigh ~100 K.
 */
export const CACHE_CHARS = 512 * 1024;
const caches: Array<LruMap<string, Compiled>> = Array.from({ length: 8 }, () =>
  textKeyedCache(CACHE_LIMIT, CACHE_CHARS),
);

let linearEngine: boolean | undefined;

/**
 * Switches on V8's linear engine (the `l` flag) for this process, once: V8 reads the flag when a
 * RegExp is built, so setting it at run time is enough. False where this V8 has no such engine.
 */
export function linearEngineAvailable(): boolean {
  if (linearEngine === undefined) {
    try {
      v8.setFlagsFromString('--enable-experimental-regexp-engine');
      linearEngine = new RegExp('a', LINEAR).test('a');
    } catch {
      linearEngine = false;
    }
  }
  return linearEngine;
}

const LINEAR = ['l'].join('');
const HEX2 = /^[0-9a-fA-F]{2}$/;
const HEX4 = /^[0-9a-fA-F]{4}$/;
/** Escapes that mean the same in Python and in a V8 RegExp without unicode mode. */
const SAME_ESCAPES = new Set('dDwWsSbBntrfv');
const SAME_CLASS_ESCAPES = new Set('dDwWsSbntrfv');
const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * The V8 source and flags for a Python pattern whose meaning survives the move exactly, or null.
 * Handled: `(?P<n>`, `\A`, `\Z`, a leading `(?s)`, `.` (Python's excludes only `\n`, V8's `\r`
 * and the line separators too), and `$` where nothing after it has to match.
 * Anything else Python and V8 might read differently returns null (RE2 runs it).
 */
export function toLinearV8(
  pattern: string,
  dotAll: boolean,
  /**
   * For a search, replace or findall, where what `$` takes shows in the result: `$` is V8's
   * (the very end), which is Python's only on a text that does not end with a newline.
   */
  extract = false,
): { source: string; flags: string } | null {
  // Without unicode mode V8 reads a character outside the BMP as two: RE2 runs those.
  if (SURROGATE.test(pattern)) return null;
  let dotall = dotAll;
  const { flags: inline, rest } = leadingInlineFlags(pattern);
  for (const f of inline) {
    if (f === 's') dotall = true;
    else if (f !== 'u') return null; // i, m, x, a, L: RE2 or V8 read them differently
  }
  let depth = 0;
  const t = translatePyRegex(rest, {
    escape(nx, at) {
      const { src, i } = at;
      if (nx === '') return null;
      if (!/[0-9a-zA-Z]/.test(nx)) return '\\' + nx;
      if (nx === 'x' && HEX2.test(src.slice(i + 2, i + 4))) {
        at.i += 2;
        return src.slice(i, i + 4);
      }
      if (nx === 'u' && HEX4.test(src.slice(i + 2, i + 6))) {
        at.i += 4;
        return src.slice(i, i + 6);
      }
      if (!at.inClass && nx === 'A') return '^';
      if (!at.inClass && nx === 'Z') return '$';
      return (at.inClass ? SAME_CLASS_ESCAPES : SAME_ESCAPES).has(nx) ? '\\' + nx : null;
    },
    char(ch, at) {
      const { src, i } = at;
      switch (ch) {
        case '(':
          depth++;
          if (src[i + 1] !== '?' || src[i + 2] === ':') return ch;
          if (src.startsWith('(?P<', i)) {
            at.i += 3;
            return '(?<';
          }
          return null; // lookarounds, back-references, comments, scoped flags: not here
        case ')':
          depth--;
          return ch;
        case '.':
          return dotall ? ch : '[^\\n]';
        case '{':
          return src[i + 1] === ',' ? null : ch; // Python's {,n}; V8 reads it as text
        case '$': {
          if (extract) return ch;
          // Python's `$` is the end or just before a final newline. Where nothing after it has to
          // match (it only closes groups and ends the pattern or a top-level alternative), taking
          // that newline with it gives the same answer.
          let j = i + 1;
          let d = depth;
          while (src[j] === ')' || src[j] === '$') if (src[j++] === ')') d--;
          if (j < src.length && !(src[j] === '|' && d === 0)) return null;
          return '(?:\\n?$)';
        }
      }
      return ch;
    },
  });
  if (!t || t.unclosed) return null;
  return { source: t.source, flags: dotall ? 's' : '' };
}

const globalCaches: Array<LruMap<string, RegExp | null>> = Array.from({ length: 2 }, () =>
  textKeyedCache(CACHE_LIMIT, CACHE_CHARS),
);

/** The V8 linear-engine global RegExp for a pattern, when this text lets it keep Python's meaning. */
function linearGlobal(pattern: string, subject: string, dotAll: boolean): RegExp | null {
  if (
    SURROGATE.test(subject) ||
    (subject.endsWith('\n') && pattern.includes('$')) ||
    !linearEngineAvailable()
  )
    return null;
  const cache = globalCaches[dotAll ? 1 : 0];
  let re = cache.get(pattern);
  if (re === undefined) {
    const t = toLinearV8(pattern, dotAll, true);
    try {
      re = t ? new RegExp(t.source, t.flags + 'g' + LINEAR) : null;
    } catch {
      re = null;
    }
    cache.set(pattern, re);
  }
  if (re) re.lastIndex = 0;
  return re;
}

export interface PyScanOptions {
  ignoreCase?: boolean;
  dotAll?: boolean;
  multiLine?: boolean;
  /** Each match carries `indices` (every group's start and end), as with V8's `d` flag. */
  indices?: boolean;
  /**
   * `$` (outside MULTILINE) as Python reads it: also just before a final newline. Without it, `$`
   * is the very end, as YAQL's patterns have always been read here.
   */
  pythonDollar?: boolean;
}

/** RE2's matches as V8's `matchAll` gives them (groups, `index`, `input`, named `groups`, `indices`). */
function* re2Matches(re: RE2JS, subject: string, indices: boolean): Generator<RegExpExecArray> {
  const names = Object.entries(re.namedGroups());
  const m = re.matcher(subject);
  while (m.find()) {
    const count = m.groupCount();
    const match = [] as unknown as RegExpExecArray;
    // V8's own `indices` holds undefined for a group that took no part, as its typing does not say.
    const spans = [] as unknown as RegExpIndicesArray;
    for (let g = 0; g <= count; g++) {
      const text = m.group(g);
      match.push(text ?? (undefined as unknown as string));
      spans.push((text === null ? undefined : [m.start(g), m.end(g)]) as [number, number]);
    }
    match.index = m.start(0);
    match.input = subject;
    match.groups = names.length
      ? (Object.fromEntries(names.map(([name, g]) => [name, match[g]])) as Record<string, string>)
      : undefined;
    if (indices) match.indices = spans;
    yield match;
  }
}

/**
 * Every match of a Python pattern in `subject` (re.finditer), for searching, replacing, splitting
 * and finding all, in linear time wherever an engine that has it keeps the pattern's meaning for
 * this text: V8's linear engine (no ignore-case, MULTILINE or group offsets), else RE2. Only
 * patterns RE2 cannot run (lookarounds, back-references), or a Python `$` on a text ending with a
 * newline, run on `fallback`, a global V8 RegExp with backtracking (with `d` when `indices`).
 */
export function pyRegexMatches(
  pattern: string,
  subject: string,
  options: PyScanOptions,
  fallback: () => RegExp,
): Iterable<RegExpExecArray> {
  if (!options.ignoreCase && !options.multiLine && !options.indices) {
    const re = linearGlobal(pattern, subject, Boolean(options.dotAll));
    if (re) return subject.matchAll(re);
  }
  const pythonDollarDiffers =
    options.pythonDollar && !options.multiLine && subject.endsWith('\n') && pattern.includes('$');
  const re2 = pythonDollarDiffers ? null : re2For(pattern, options);
  if (re2) return re2Matches(re2, subject, Boolean(options.indices));
  // Backtracking: every match found at once, within the time budget (a lazy iterator would run
  // each next match outside it).
  const re = fallback();
  return withinRegexBudget(pattern, subject, () => [...subject.matchAll(re)]);
}

/** String.replace over matches from `pyRegexMatches`; `replace` gets String.replace's arguments. */
export function replaceMatches(
  subject: string,
  matches: Iterable<RegExpExecArray>,
  replace: (match: string, ...rest: unknown[]) => string,
): string {
  let out = '';
  let last = 0;
  for (const m of matches) {
    const rest: unknown[] = [...m.slice(1), m.index, subject];
    if (m.groups) rest.push(m.groups);
    out += subject.slice(last, m.index) + replace(m[0], ...rest);
    last = m.index + m[0].length;
  }
  return out + subject.slice(last);
}

/** A Python pattern's matches in `subject`, with Python's `$` (Jinja's filters). */
export function pyRegexAll(
  pattern: string,
  subject: string,
  options: PyTestOptions = {},
): Iterable<RegExpExecArray> {
  return pyRegexMatches(pattern, subject, { ...options, pythonDollar: true }, () =>
    pyRegex(pattern, { ignoreCase: options.ignoreCase, dotAll: options.dotAll, global: true }),
  );
}

/** Python's `\Z` (the very end) is RE2's `\z`; an escaped backslash before a Z stays as it is. */
function toRe2Syntax(pattern: string): string {
  return pattern.replace(/(?<!\\)((?:\\\\)*)\\Z/g, '$1\\z');
}

/** The flags RE2 compiles a Python pattern with. */
interface Re2Flags {
  ignoreCase?: boolean;
  dotAll?: boolean;
  multiLine?: boolean;
}

/** One map per flag set, keyed by the pattern itself: no key string built per test. */
const re2Caches: Array<LruMap<string, RE2JS | null>> = Array.from({ length: 8 }, () =>
  textKeyedCache(CACHE_LIMIT, CACHE_CHARS),
);

/**
 * A Python pattern compiled for RE2 with these flags, or null when RE2 does not accept it
 * (a lookaround, a back-reference, verbose mode): the caller's backtracking V8 RegExp runs it,
 * and reports it if it is no regular expression at all. Cached, as many as CACHE_LIMIT per flag set.
 */
function re2For(pattern: string, flags: Re2Flags): RE2JS | null {
  const bits = (flags.ignoreCase ? 1 : 0) | (flags.dotAll ? 2 : 0) | (flags.multiLine ? 4 : 0);
  const cache = re2Caches[bits];
  let re = cache.get(pattern);
  if (re === undefined) {
    try {
      re = RE2JS.compile(
        toRe2Syntax(pattern),
        (flags.ignoreCase ? RE2JS.CASE_INSENSITIVE : 0) |
          (flags.dotAll ? RE2JS.DOTALL : 0) |
          (flags.multiLine ? RE2JS.MULTILINE : 0),
      );
    } catch {
      re = null;
    }
    cache.set(pattern, re);
  }
  return re;
}

function compileV8(pattern: string, options: PyTestOptions): RegExp | null {
  if (options.ignoreCase || !linearEngineAvailable()) return null;
  const t = toLinearV8(pattern, Boolean(options.dotAll));
  if (!t) return null;
  try {
    return new RegExp(options.anchored ? `^(?:${t.source})` : t.source, t.flags + LINEAR);
  } catch {
    return null; // not linear (large counted repeats) or not valid: RE2 or pyRegex decide
  }
}

function compile(pattern: string, options: PyTestOptions): Compiled {
  const cache = caches[(options.ignoreCase ? 1 : 0) | (options.dotAll ? 2 : 0) | (options.anchored ? 4 : 0)];
  const hit = cache.get(pattern);
  if (hit !== undefined) return hit;
  const re = compileV8(pattern, options);
  const entry: Compiled = {
    v8: re,
    dollar: pattern.includes('$') && !pattern.includes('\\Z'),
  };
  cache.set(pattern, entry);
  return entry;
}

function re2Test(re: RE2JS, text: string, anchored: boolean | undefined): boolean {
  const m = re.matcher(text);
  return anchored ? m.lookingAt() : m.find();
}

/** Which engine `pyRegexTest` runs a pattern on for this text (for tests and diagnosis). */
export function pyRegexEngine(
  pattern: string,
  subject = '',
  options: PyTestOptions = {},
): 'v8-linear' | 're2' | 'v8-backtracking' {
  const c = compile(pattern, options);
  if (c.v8 && !SURROGATE.test(subject)) return 'v8-linear';
  return re2For(pattern, options) ? 're2' : 'v8-backtracking';
}

/** re.search (or re.match with `anchored`) of a Python pattern: does it match `subject`? */
export function pyRegexTest(pattern: string, subject: string, options: PyTestOptions = {}): boolean {
  const c = compile(pattern, options);
  if (c.v8 && !SURROGATE.test(subject)) return c.v8.test(subject);
  // Python's `$` also matches just before a final newline; RE2's only at the very end.
  const retry = c.dollar && subject.endsWith('\n');
  const re = re2For(pattern, options);
  if (!re) {
    const backtracking = pyRegex(pattern, {
      ignoreCase: options.ignoreCase,
      dotAll: options.dotAll,
      sticky: options.anchored,
    });
    return withinRegexBudget(pattern, subject, () => backtracking.test(subject));
  }
  return (
    re2Test(re, subject, options.anchored) || (retry && re2Test(re, subject.slice(0, -1), options.anchored))
  );
}
