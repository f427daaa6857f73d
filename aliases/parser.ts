import { AliasFormatError, AliasParseError } from './errors.js';
import { RE2JS } from 're2js';
import { PLACEHOLDER_MARK, translatePythonRegex } from './regex.js';
import type { AliasParameters } from './types.js';

/*
 * The format language of st2's server-side `ActionAliasFormatParser` (st2-reference.md §5.2).
 * The building blocks below are the same expressions st2 uses, written for JavaScript, so quirks
 * (which value wins, what a lone space captures) stay identical.
 */

/** A parameter name: anything without spaces, spaces allowed around it. */
const KEY = String.raw`\s*(\S+?)\s*`;
/** A trailing `key=value` value: empty quotes, "quoted", 'quoted', {json}, or a bare word. */
const VALUE = String.raw`""|''|"(.+?)"|'(.+?)'|(\{.+?\})|(\S+)`;
/** A default value in `{{name=default}}`: like VALUE, but unquoted text may contain spaces. */
const EXT_VALUE = String.raw`""|''|"(.+?)"|'(.+?)'|(\{.+?\})|(.+?)`;
const PAIR = String.raw`(?:^|\s+)${KEY}=(${VALUE})`;
const OPTIONAL = String.raw`\{\{${KEY}\s*=\s*(?:${EXT_VALUE})\s*\}\}`;
const REQUIRED = String.raw`\{\{${KEY}\}\}`;

/** A placeholder's value: quoted, {json} or lazy (the last alternative accepts what the others do). */
const VALUE_ALTERNATIVES = String.raw`(?:(?<=').+?(?=')|(?<=").+?(?=")|\{.+?\}|.+?)`;

/** What one placeholder becomes: optional quotes around a quoted, {json} or lazy value. */
function placeholderRegex(leadingSpace: string, index: number): string {
  return leadingSpace + `["']?(?P<${PLACEHOLDER_MARK}${index}>${VALUE_ALTERNATIVES})["']?`;
}

export interface CompiledFormat {
  format: string;
  regex: RegExp;
  /** Same expression with the `g` flag, for match_multiple. */
  globalRegex: RegExp;
  groupParams: string[];
  /** `[name, default]` for every `{{name=default}}`, in order. */
  optional: Array<[string, string]>;
  /**
   * The same language without the lookarounds that pick which quotes a value keeps (each
   * placeholder's last alternative, `.+?`, already accepts anything the others do), so V8 can run
   * it on its linear-time engine. A command it rejects cannot match `regex`, whose backtracking
   * takes time exponential in the placeholders on a long command that almost fits: a chat user's
   * one message would hold the server for minutes. A command it rejects matches nowhere, so
   * match_multiple's find-all is skipped too.
   */
  precheck: { test(text: string): boolean } | null;
}

const CACHE_LIMIT = 2000;
/** How aliases/regex.ts writes Python's `$`. */
const PY_DOLLAR = String.raw`(?=\n?$)`;
const cache = new Map<string, CompiledFormat>();

/**
 * Turns a format string into the regular expression st2 would build. Throws `ALIAS_BAD_FORMAT`
 * when the result is not a valid expression. Results are memoised (formats are few and reused).
 */
export function compileFormat(format: string): CompiledFormat {
  const hit = cache.get(format);
  if (hit) return hit;

  const optional: Array<[string, string]> = [];
  for (const m of format.matchAll(new RegExp(OPTIONAL, 'gs'))) {
    optional.push([m[1], (m[2] ?? '') + (m[3] ?? '') + (m[4] ?? '') + (m[5] ?? '')]);
  }

  const placeholders: string[] = [];
  const substitute = (_m: string, space: string, key: string): string =>
    placeholderRegex(space, placeholders.push(key) - 1);
  let reg = format.replace(
    new RegExp(String.raw`(\s*)` + OPTIONAL, 'gs'),
    (m, space: string, key: string) => {
      return `(?:${substitute(m, space, key)})?`;
    },
  );
  reg = reg.replace(new RegExp(String.raw`(\s*)` + REQUIRED, 'gs'), substitute);

  const label = `Format string "${format}"`;
  const translated = translatePythonRegex(reg, placeholders, label, { format });
  const source =
    (translated.hasStart ? '' : String.raw`^\s*`) +
    translated.source +
    (translated.hasEnd ? '' : String.raw`\s*$`);
  const flags = 'sd' + (translated.ignoreCase ? 'i' : '');
  let regex: RegExp;
  let globalRegex: RegExp;
  try {
    regex = new RegExp(source, flags);
    globalRegex = new RegExp(source, flags + 'g');
  } catch (err) {
    throw new AliasFormatError(`${label} is not a valid regular expression: ${(err as Error).message}`, {
      format,
      regex: source,
    });
  }

  // Python's `$` (translated as a lookahead, which keeps V8 off its linear engine) consumes its
  // newline here: the same texts pass, short of a format whose pattern goes on past a `$`.
  const relaxed = source
    .split(VALUE_ALTERNATIVES)
    .join('.+?')
    .split(PY_DOLLAR)
    .join(String.raw`\n?$`);
  const compiled: CompiledFormat = {
    format,
    regex,
    globalRegex,
    groupParams: translated.groupParams,
    optional,
    // Also without a placeholder: the format's own text is a pattern (st2 reads it as one), and
    // `(a+)+$` with the `d` flag keeps backtracking (a 40-character message held the server hours).
    precheck: linearPrecheck(relaxed, flags.replace('d', '')),
  };
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(format, compiled);
  return compiled;
}

/**
 * V8 runs a backtracking pattern on its linear engine only without ignore-case: a `(?i)` format
 * (`(?i)(a+)+b {{x}}`) would still backtrack, so RE2 runs those; a pattern RE2 does not take
 * (lookarounds, back-references) stays on V8's.
 */
function linearPrecheck(source: string, flags: string): { test(text: string): boolean } {
  const v8 = new RegExp(source, flags);
  if (!flags.includes('i')) return v8;
  try {
    const re2 = RE2JS.compile(source, RE2JS.CASE_INSENSITIVE | (flags.includes('s') ? RE2JS.DOTALL : 0));
    return { test: (text) => re2.matcher(text).find() };
  } catch {
    return v8;
  }
}

const isSpace = (ch: string | undefined): boolean => ch !== undefined && /\s/.test(ch);

/**
 * Where the trailing run of `key=value` pairs starts: the smallest p such that `command.slice(p)`
 * matches `(?:PAIR\s*)*$`, i.e. what st2's `^.*?((?:PAIR\s*)*)$` captures. Evaluating that
 * expression directly backtracks exponentially on inputs like "a=1  a=1  ... x" (a chat message
 * could stall the process), so this decides the same language with a table over positions.
 */
function trailingPairsStart(command: string): number {
  const n = command.length;
  const spaceEnd = new Int32Array(n + 1);
  const wordEnd = new Int32Array(n + 1);
  spaceEnd[n] = n;
  wordEnd[n] = n;
  for (let i = n - 1; i >= 0; i--) {
    spaceEnd[i] = isSpace(command[i]) ? spaceEnd[i + 1] : i;
    wordEnd[i] = isSpace(command[i]) ? i : wordEnd[i + 1];
  }
  // rest[k]: command.slice(k) is zero or more pairs, each followed by optional spaces, then the end.
  const rest = new Uint8Array(n + 2);
  // restAfter[j]: some k in [j, spaceEnd[j]] has rest[k] (the `\s*` after a pair).
  const restAfter = new Uint8Array(n + 2);
  rest[n] = 1;
  restAfter[n] = 1;

  const valueEnds = (v: number, emit: (end: number) => boolean): boolean => {
    const c = command[v];
    if (c === undefined) return false;
    if (c === '"' || c === "'") {
      // `""`, `''`, or a quoted text of at least one character: any later matching quote may close it.
      for (let e = command.indexOf(c, v + 1); e >= 0; e = command.indexOf(c, e + 1)) {
        if (emit(e + 1)) return true;
      }
    }
    if (c === '{') {
      for (let e = command.indexOf('}', v + 2); e >= 0; e = command.indexOf('}', e + 1)) {
        if (emit(e + 1)) return true;
      }
    }
    // A bare word (`\S+`), any non-empty prefix of the word.
    for (let e = v + 1; e <= wordEnd[v]; e++) if (emit(e)) return true;
    return false;
  };

  const pairFrom = (k: number): boolean => {
    // `(?:^|\s+)\s*`: the key starts where the spaces end; spaces are required except at 0.
    const keyStart = spaceEnd[k];
    if (keyStart === k && k !== 0) return false;
    if (keyStart >= n) return false;
    // `(\S+?)\s*=`: the key is any non-empty prefix of the word, then optional spaces, then "=".
    for (let keyEnd = keyStart + 1; keyEnd <= wordEnd[keyStart]; keyEnd++) {
      const eq = spaceEnd[keyEnd];
      if (command[eq] !== '=') continue;
      if (valueEnds(eq + 1, (end) => restAfter[end] === 1)) return true;
    }
    return false;
  };

  for (let k = n - 1; k >= 0; k--) {
    rest[k] = pairFrom(k) ? 1 : 0;
    restAfter[k] = rest[k] || (isSpace(command[k]) && restAfter[k + 1]) ? 1 : 0;
  }
  let p = 0;
  while (!rest[p]) p++;
  return p;
}

/** Cuts the run of `key=value` pairs off the end of a command (st2 does this before matching). */
export function cutTrailingPairs(command: string): { pairs: Array<[string, string]>; stream: string } {
  const run = command.slice(trailingPairsStart(command));
  if (!run) return { pairs: [], stream: ` ${command} ` };
  const pairs: Array<[string, string]> = [];
  for (const m of run.matchAll(new RegExp(PAIR, 'gs'))) {
    pairs.push([m[1], (m[3] ?? '') + (m[4] ?? '') + (m[5] ?? '') + (m[6] ?? '')]);
  }
  // st2 removes every occurrence of the run (Python's str.replace), then pads with spaces.
  return { pairs, stream: ` ${command.split(run).join('')} ` };
}

export interface DetailedParse {
  /** One parameter set, or one per match for match_multiple. */
  parameters: AliasParameters[];
  /**
   * How much literal (non-placeholder) text the format matched in the command: non-space
   * characters outside every named group, quotes excluded. Used to rank competing aliases.
   */
  literal: number;
}

const QUOTES = new Set(['"', "'"]);

/**
 * A placeholder's value with the quotes st2's expression strips around it put back, unless they
 * enclose the whole value: `sh echo 'a b'` means `echo 'a b'` (st2 loses the closing quote),
 * while `say "hello there"` still means `hello there`.
 */
function keepQuotes(stream: string, m: RegExpExecArray, group: string): string | undefined {
  const value = m.groups?.[group];
  const span = m.indices?.groups?.[group];
  if (value === undefined || !span) return value;
  const [start, end] = span;
  const matchEnd = m.index + m[0].length;
  const open = start > m.index && QUOTES.has(stream[start - 1]) ? stream[start - 1] : '';
  const close = end < matchEnd && QUOTES.has(stream[end]) ? stream[end] : '';
  if (open && open === close) return value;
  return open + value + close;
}

function literalCount(stream: string, m: RegExpExecArray): number {
  const covered = new Uint8Array(stream.length);
  for (const span of Object.values(m.indices?.groups ?? {})) {
    if (span) covered.fill(1, span[0], span[1]);
  }
  let count = 0;
  const end = m.index + m[0].length;
  for (let i = m.index; i < end; i++) {
    if (!covered[i] && !/[\s"']/.test(stream[i])) count++;
  }
  return count;
}

/**
 * Parses a command against one format, st2's way. `multiple` applies the expression find-all
 * style and returns one parameter set per match (match_multiple formats).
 */
export function parseDetailed(
  format: string | undefined,
  command: string | undefined,
  multiple = false,
): DetailedParse {
  const fmt = format ?? '';
  const original = command ?? '';
  const { pairs, stream } = cutTrailingPairs(original);
  const compiled = compileFormat(fmt);

  const build = (m: RegExpExecArray | null): AliasParameters => {
    if (!m) {
      throw new AliasParseError(
        'ALIAS_NO_MATCH',
        `Command "${original}" doesn't match format string "${fmt}"`,
        {
          command: original,
          format: fmt,
        },
      );
    }
    const result: AliasParameters = {};
    compiled.groupParams.forEach((param, index) => {
      const value = keepQuotes(stream, m, `a${index}`);
      if (result[param] === undefined || result[param] === null) result[param] = value ?? null;
    });
    for (const [name, fallback] of compiled.optional) {
      result[name] = (result[name] as string | null | undefined) || fallback;
    }
    for (const [name, value] of pairs) result[name] = value;
    if (fmt && !(stream.trim() || Object.values(result).some((v) => Boolean(v)))) {
      throw new AliasParseError('ALIAS_NO_VALUE', 'No value supplied and no default value found.', {
        command: original,
        format: fmt,
      });
    }
    return result;
  };

  const fits = !compiled.precheck || compiled.precheck.test(stream);
  const first = fits ? compiled.regex.exec(stream) : null;
  const parameters = [build(first)];
  const literal = first ? literalCount(stream, first) : 0;
  if (!multiple) return { parameters, literal };

  const all = fits ? [...stream.matchAll(compiled.globalRegex)].map((m) => build(m)) : [];
  return { parameters: all, literal };
}

/**
 * st2's `ActionAliasFormatParser.get_extracted_param_value`: match `command` against `format` and
 * return the parameters it names (§5.2). Throws `AliasParseError` (`ALIAS_NO_MATCH`,
 * `ALIAS_NO_VALUE`) when the command does not fit, `AliasFormatError` when the format is broken.
 */
export function extractParameters(format: string | undefined, command: string): Record<string, unknown> {
  return parseDetailed(format, command).parameters[0];
}

/** st2's `get_multiple_extracted_param_value`: one parameter set per match of the format. */
export function extractMultipleParameters(
  format: string | undefined,
  command: string,
): Array<Record<string, unknown>> {
  return parseDetailed(format, command, true).parameters;
}

/** Throws `ALIAS_BAD_FORMAT` when a format cannot be compiled; for validating alias files on load. */
export function validateFormat(format: string): void {
  compileFormat(format);
}
