/**
 * Jinja with StackStorm's semantics, on nunjucks (st2-reference.md §2.1, §2.2, §4.1, §6.1).
 *
 * st2 renders with Python's Jinja2, so what users see is Python's: `{{ trigger.body }}` prints
 * `{'foo': 'bar'}`, `{{ flag }}` prints `True`, `{{ nothing }}` prints `None`. nunjucks prints
 * JavaScript's `[object Object]` and `true`, so every `{{ expr }}` output is routed through a
 * filter that prints Python's str(). `True`/`False`/`None` literals, Python's dict and str
 * methods (`d.items()`, `s.strip()`, `s.split()`) and st2's custom filters are added on top.
 */
import nunjucks from 'nunjucks';
import { SquallError } from '../../../errors.js';
import { countArg, guardInput, occurrences, spendBuild, spendReplace, withBuildBudget } from './budget.js';
import {
  createSt2Filters,
  jinjaBuiltins,
  pySequenceInput,
  pyStringInput,
  st2Filters,
  type FilterFunction,
} from './filters.js';
import { pyFormatSpec, pyPercentFormat } from './pyformat.js';
import { isPlainObject, pyEquals, pyRepr, pyStr, pyTuple } from './python.js';
import { patchTemplateSandbox } from './sandbox.js';
import { patchPythonComparisons } from './compare.js';
import { patchPythonArithmetic } from './arithmetic.js';
import { patchPythonLogic, pyTruthy } from './logic.js';
import { patchFloatOutput, pyFloatStr } from './floats.js';
import { patchPythonSubscripts } from './subscript.js';
import { patchPythonSyntax } from './syntax.js';
import { patchNamespace, pyNamespace } from './namespace.js';
import { checkPatches } from './patches.js';

export { st2Filters, createSt2Filters, type FilterFunction } from './filters.js';
export {
  NONE_MAGIC_VALUE,
  parsePythonLiteral,
  pyJsonDumps,
  pyRepr,
  pyStr,
  isPlainObject,
  pyEquals,
  pyOrder,
  pyTypeName,
} from './python.js';
export { pyRegex, pyReplacement, pyFindAll, fnmatchRegex } from './pyregex.js';
export { pyRegexTest, pyRegexEngine, pyRegexAll, pyRegexMatches, replaceMatches } from './linear-regex.js';
export { leadingInlineFlags, translatePyRegex, type PyRegexTranslator } from './pyregex-scan.js';
export { queryJsonPath, parseJsonPath } from './jsonpath.js';
export {
  guardInput,
  MAX_BUILD,
  MAX_LOOP_ITERATIONS,
  spendBuild,
  spendReplace,
  withBuildBudget,
} from './budget.js';
import { textKeyedCache } from '../../../lru-map.js';
export { compareVersions, matchVersion, parseVersion } from './semver.js';
export { checkPatches, PATCH_PROBES, type PatchProbe } from './patches.js';

export interface JinjaOptions {
  /** Decrypts a datastore ciphertext for the `decrypt_kv` filter. */
  decrypt?: (ciphertext: string) => string;
  /** Extra callables visible to templates by name (e.g. Orquesta's `ctx()`, `st2kv()`). */
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  functions?: Record<string, Function>;
  /** What is being rendered (parameter, field, file), for error messages. */
  source?: string;
  /**
   * Epoch ms after which rendering stops with JINJA_DEADLINE. Checked at every `{{ }}` output and
   * every `range()`, so a loop cannot spin past it for long (a render is synchronous: without a
   * deadline one template can hold the whole process).
   */
  deadline?: number;
}

/** The most items one `range()` yields: larger loops are not what templates are for. */
export const MAX_RANGE_ITEMS = 100_000;

/** A template failed to parse or render; the message names the template and the reason. */
export class JinjaRenderError extends SquallError {
  constructor(template: string, reason: string, context: Record<string, unknown> = {}, status = 400) {
    const where = typeof context.source === 'string' ? ` (${context.source})` : '';
    super(
      'JINJA_RENDER',
      `Failed to render Jinja template "${abbreviate(template)}"${where}: ${reason}`,
      { template, reason, ...context },
      status,
    );
    this.name = 'JinjaRenderError';
  }
}

function abbreviate(s: string): string {
  return s.length > 200 ? s.slice(0, 197) + '...' : s;
}

const OPTS_KEY = '__squall_jinja_options';
const CAPTURE_KEY = '__squall_jinja_capture';
const OUTPUT_FILTER = '__squall_py_str';
const FLOAT_OUTPUT_FILTER = '__squall_py_float_str';
const CAPTURE_FILTER = '__squall_capture';

/* ------------------------------------------------------------------ template scanning */

export interface Segment {
  kind: 'text' | 'expr' | 'block' | 'comment' | 'raw';
  /** Source text of the segment, with nested `}}` separated so nunjucks can lex it. */
  raw: string;
  /** For expr: the expression between the delimiters (whitespace-control markers removed). */
  body?: string;
  trimLeft?: boolean;
  trimRight?: boolean;
}

/**
 * Finds where a tag's code ends: the closing delimiter outside string literals and outside
 * brackets (Jinja2 balances brackets, so `{{ {'a': {'b': 1}} }}` is one expression). Returns the
 * index of the delimiter and the code with adjacent closing braces spaced apart.
 */
function scanCode(src: string, from: number, close: string): { end: number; code: string } | null {
  let depth = 0;
  let quote: string | null = null;
  let code = '';
  for (let i = from; i < src.length; i++) {
    const ch = src[i];
    if (quote) {
      if (ch === '\\' && i + 1 < src.length) {
        // Python keeps unknown escapes (`'\d'` is backslash-d); nunjucks would drop the backslash.
        const nx = src[++i];
        code += '\\nrt\'"'.includes(nx) ? ch + nx : '\\\\' + nx;
        continue;
      }
      code += ch;
      if (ch === quote) quote = null;
      continue;
    }
    if (depth === 0 && src.startsWith(close, i)) return { end: i, code };
    if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') depth = Math.max(0, depth - 1);
    code += ch;
    if (ch === '}' && src[i + 1] === '}') code += ' ';
    else if (ch === '%' && src[i + 1] === '}') code += ' ';
  }
  return null;
}

/** An expression segment that writes `text` as it is. */
const literal = (text: string): Segment => {
  const body = ` ${JSON.stringify(text)} `;
  return { kind: 'expr', raw: `{{${body}}}`, body, trimLeft: false, trimRight: false };
};

export function scanTemplate(src: string): Segment[] {
  const segs: Segment[] = [];
  let text = '';
  const flush = (): void => {
    if (text) segs.push({ kind: 'text', raw: text });
    text = '';
  };
  let i = 0;
  while (i < src.length) {
    if (src.startsWith('{#', i)) {
      const end = src.indexOf('#}', i + 2);
      if (end < 0) {
        text += src.slice(i);
        break;
      }
      flush();
      segs.push({ kind: 'comment', raw: src.slice(i, end + 2) });
      i = end + 2;
    } else if (src.startsWith('{%', i)) {
      const res = scanCode(src, i + 2, '%}');
      if (!res) {
        text += src.slice(i);
        break;
      }
      flush();
      const tag = /^[-+]?\s*(\w+)/.exec(res.code)?.[1];
      if (tag === 'raw' || tag === 'verbatim') {
        const endRe = new RegExp(`\\{%[-+]?\\s*end${tag}\\s*[-+]?%\\}`, 'g');
        endRe.lastIndex = res.end + 2;
        const m = endRe.exec(src);
        const stop = m ? m.index + m[0].length : src.length;
        segs.push({ kind: 'raw', raw: src.slice(i, stop) });
        i = stop;
      } else {
        // Jinja2's `{%+` keeps the indent lstrip_blocks would remove and `+%}` the newline
        // trim_blocks would (st2's alias result formats end loops with `{%+ endfor %}`); nunjucks
        // knows neither, so the kept whitespace is written as a literal it cannot strip.
        let code = res.code;
        const keepIndent = code.startsWith('+');
        const keepNewline = code.endsWith('+');
        if (keepIndent) code = code.slice(1);
        if (keepNewline) code = code.slice(0, -1);
        const before = segs.at(-1);
        const indent = keepIndent && before?.kind === 'text' ? /[ \t]+$/.exec(before.raw)?.[0] : undefined;
        if (before && indent) {
          before.raw = before.raw.slice(0, -indent.length);
          if (!before.raw) segs.pop();
          segs.push(literal(indent));
        }
        segs.push({ kind: 'block', raw: `{%${code}%}` });
        i = res.end + 2;
        const newline = keepNewline ? /^\r?\n/.exec(src.slice(i, i + 2))?.[0] : undefined;
        if (newline) {
          segs.push(literal(newline));
          i += newline.length;
        }
      }
    } else if (src.startsWith('{{', i)) {
      const res = scanCode(src, i + 2, '}}');
      if (!res) {
        text += src.slice(i);
        break;
      }
      flush();
      let body = res.code;
      const trimLeft = body.startsWith('-');
      if (trimLeft) body = body.slice(1);
      const trimRight = /-\s*$/.test(body) && !/[-+*/%~]\s*-\s*$/.test(body);
      if (trimRight) body = body.replace(/-\s*$/, '');
      segs.push({ kind: 'expr', raw: `{{${res.code}}}`, body, trimLeft, trimRight });
      i = res.end + 2;
    } else {
      text += src[i];
      i++;
    }
  }
  flush();
  return segs;
}

/** True when the string holds a Jinja expression or block (st2's `is_jinja_expression`). */
export function hasJinja(value: string): boolean {
  return (
    typeof value === 'string' &&
    (value.includes('{{') || value.includes('{%')) &&
    scanTemplate(value).some((s) => s.kind === 'expr' || s.kind === 'block')
  );
}

/** The expression of a string that is exactly one `{{ expr }}` (whitespace around allowed). */
export function singleExpression(template: string): string | null {
  const segs = scanTemplate(template);
  const significant = segs.filter((s) => !(s.kind === 'text' && s.raw.trim() === ''));
  if (significant.length !== 1 || significant[0].kind !== 'expr') return null;
  const body = significant[0].body?.trim() ?? '';
  return body === '' ? null : body;
}

function wrapOutputs(segs: Segment[], filter: string): string {
  return segs
    .map((s) =>
      s.kind === 'expr' && s.body?.trim()
        ? `{{${s.trimLeft ? '-' : ''} (${s.body}) | ${filter} ${s.trimRight ? '-' : ''}}}`
        : s.raw,
    )
    .join('');
}

/* ------------------------------------------------------------------ Python methods */

type Method = (this: any, ...args: any[]) => unknown;

function kwargs(args: unknown[]): { positional: unknown[]; named: Record<string, unknown> } {
  const last = args[args.length - 1] as Record<string, unknown> | undefined;
  if (last && typeof last === 'object' && (last as { __keywords?: boolean }).__keywords) {
    const { __keywords: _k, ...named } = last;
    return { positional: args.slice(0, -1), named };
  }
  return { positional: args, named: {} };
}

function pySplit(s: string, sep: unknown, maxsplit: unknown): string[] {
  const max = maxsplit === undefined || maxsplit === null ? -1 : Number(maxsplit);
  if (sep === undefined || sep === null) {
    const parts = s
      .trim()
      .split(/\s+/)
      .filter((x) => x !== '');
    if (max < 0 || parts.length <= max + 1) return parts;
    const out: string[] = [];
    let rest = s.replace(/^\s+/, '');
    for (let n = 0; n < max; n++) {
      const m = /\s+/.exec(rest);
      if (!m) break;
      out.push(rest.slice(0, m.index));
      rest = rest.slice(m.index + m[0].length);
    }
    out.push(rest);
    return out;
  }
  const sepS = String(sep);
  const parts = s.split(sepS);
  if (max < 0 || parts.length <= max + 1) return parts;
  return [...parts.slice(0, max), parts.slice(max).join(sepS)];
}

function stripChars(s: string, chars: unknown, left: boolean, right: boolean): string {
  if (chars === undefined || chars === null) {
    return left && right ? s.trim() : left ? s.trimStart() : s.trimEnd();
  }
  const set = new Set([...String(chars)]);
  let a = 0;
  let b = s.length;
  if (left) while (a < b && set.has(s[a])) a++;
  if (right) while (b > a && set.has(s[b - 1])) b--;
  return s.slice(a, b);
}

const STRING_METHODS: Record<string, Method> = {
  lower(this: string) {
    return this.toLowerCase();
  },
  upper(this: string) {
    return this.toUpperCase();
  },
  strip(this: string, chars?: unknown) {
    return stripChars(this, chars, true, true);
  },
  lstrip(this: string, chars?: unknown) {
    return stripChars(this, chars, true, false);
  },
  rstrip(this: string, chars?: unknown) {
    return stripChars(this, chars, false, true);
  },
  split(this: string, ...args: unknown[]) {
    const { positional, named } = kwargs(args);
    return pySplit(this, positional[0] ?? named.sep, positional[1] ?? named.maxsplit);
  },
  replace(this: string, old: unknown, replacement: unknown, count?: unknown) {
    const cap = count === undefined || count === null || Number(count) < 0 ? Infinity : countArg(count);
    spendReplace(this, String(old), String(replacement), 'str.replace()', cap);
    const parts = this.split(String(old));
    const n = count === undefined || count === null || Number(count) < 0 ? parts.length : Number(count) + 1;
    return (
      parts.slice(0, n).join(String(replacement)) +
      (n < parts.length ? String(old) + parts.slice(n).join(String(old)) : '')
    );
  },
  startswith(this: string, prefix: unknown) {
    return Array.isArray(prefix)
      ? prefix.some((p) => this.startsWith(String(p)))
      : this.startsWith(String(prefix));
  },
  endswith(this: string, suffix: unknown) {
    return Array.isArray(suffix)
      ? suffix.some((p) => this.endsWith(String(p)))
      : this.endsWith(String(suffix));
  },
  capitalize(this: string) {
    return this.charAt(0).toUpperCase() + this.slice(1).toLowerCase();
  },
  title(this: string) {
    return this.toLowerCase().replace(
      /(^|[^A-Za-z])([a-z])/g,
      (_m, a: string, b: string) => a + b.toUpperCase(),
    );
  },
  find(this: string, sub: unknown) {
    return this.indexOf(String(sub));
  },
  count(this: string, sub: unknown) {
    return String(sub) === '' ? this.length + 1 : this.split(String(sub)).length - 1;
  },
  join(this: string, items: unknown) {
    const list = Array.isArray(items) ? items : [];
    spendBuild(Math.max(0, list.length - 1) * this.length, 'str.join()');
    return list.map((x) => pyStr(x)).join(this);
  },
  isdigit(this: string) {
    return /^\d+$/.test(this);
  },
  isalpha(this: string) {
    return /^[A-Za-z]+$/.test(this);
  },
  splitlines(this: string) {
    return this.split(/\r\n|\r|\n/).filter((x, i, a) => !(i === a.length - 1 && x === ''));
  },
  rsplit(this: string, ...args: unknown[]) {
    const { positional, named } = kwargs(args);
    const sep = positional[0] ?? named.sep;
    const maxsplit = positional[1] ?? named.maxsplit;
    const max = maxsplit === undefined || maxsplit === null ? -1 : Number(maxsplit);
    if (sep === undefined || sep === null || max < 0) return pySplit(this, sep, maxsplit);
    const sepS = String(sep);
    const parts = this.split(sepS);
    if (parts.length <= max + 1) return parts;
    return [parts.slice(0, parts.length - max).join(sepS), ...parts.slice(parts.length - max)];
  },
  partition(this: string, sep: unknown) {
    const i = this.indexOf(String(sep));
    return pyTuple(
      i < 0 ? [this, '', ''] : [this.slice(0, i), String(sep), this.slice(i + String(sep).length)],
    );
  },
  rpartition(this: string, sep: unknown) {
    const i = this.lastIndexOf(String(sep));
    return pyTuple(
      i < 0 ? ['', '', this] : [this.slice(0, i), String(sep), this.slice(i + String(sep).length)],
    );
  },
  zfill(this: string, width: unknown) {
    const w = countArg(width);
    spendBuild(w - this.length, 'str.zfill()');
    const sign = /^[-+]/.test(this) ? this[0] : '';
    return sign + this.slice(sign.length).padStart(w - sign.length, '0');
  },
  center(this: string, width: unknown, fill: unknown = ' ') {
    const w = countArg(width);
    spendBuild(w - this.length, 'str.center()');
    const gap = Math.max(0, w - this.length);
    // CPython puts the odd space on the left when the width is odd and the text even, and on the right otherwise.
    const left = Math.floor(gap / 2) + (gap & w & 1);
    return String(fill).repeat(left) + this + String(fill).repeat(gap - left);
  },
  ljust(this: string, width: unknown, fill: unknown = ' ') {
    spendBuild(countArg(width) - this.length, 'str.ljust()');
    return this.padEnd(countArg(width), String(fill));
  },
  rjust(this: string, width: unknown, fill: unknown = ' ') {
    spendBuild(countArg(width) - this.length, 'str.rjust()');
    return this.padStart(countArg(width), String(fill));
  },
  swapcase(this: string) {
    return [...this].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join('');
  },
  rfind(this: string, sub: unknown) {
    return this.lastIndexOf(String(sub));
  },
  isupper(this: string) {
    return /[A-Z]/.test(this) && !/[a-z]/.test(this);
  },
  islower(this: string) {
    return /[a-z]/.test(this) && !/[A-Z]/.test(this);
  },
  isspace(this: string) {
    return /^\s+$/.test(this);
  },
  isalnum(this: string) {
    return /^[A-Za-z0-9]+$/.test(this);
  },
  format(this: string, ...args: unknown[]) {
    const { positional, named } = kwargs(args);
    let auto = 0;
    return this.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (m, key: string | undefined) => {
      if (m === '{{') return '{';
      if (m === '}}') return '}';
      const field = /^([^!:]*)(?:!([rs]))?(?::(.*))?$/s.exec(key ?? '') ?? ['', ''];
      const name = field[1];
      const v =
        name === '' ? positional[auto++] : /^\d+$/.test(name) ? positional[Number(name)] : named[name];
      const shown = field[2] === 'r' ? pyRepr(v) : v;
      const text = field[3] === undefined ? pyStr(shown) : pyFormatSpec(shown, field[3]);
      spendBuild(text.length, 'str.format()');
      return text;
    });
  },
};

const DICT_METHODS: Record<string, Method> = {
  items(this: Record<string, unknown>) {
    return Object.entries(this).map((pair) => pyTuple(pair));
  },
  keys(this: Record<string, unknown>) {
    return Object.keys(this);
  },
  values(this: Record<string, unknown>) {
    return Object.values(this);
  },
  get(this: Record<string, unknown>, key: unknown, def: unknown = null) {
    const k = String(key);
    return Object.prototype.hasOwnProperty.call(this, k) ? this[k] : def;
  },
  copy(this: Record<string, unknown>) {
    return { ...this };
  },
};

const LIST_METHODS: Record<string, Method> = {
  count(this: unknown[], x: unknown) {
    return this.filter((y) => pyRepr(y) === pyRepr(x)).length;
  },
  index(this: unknown[], x: unknown) {
    const i = this.findIndex((y) => pyRepr(y) === pyRepr(x));
    if (i < 0) throw new Error(`${pyRepr(x)} is not in list`);
    return i;
  },
  append(this: unknown[], x: unknown) {
    this.push(x);
    return undefined;
  },
};

/** JavaScript's string methods that build more than they are given, priced before they run. */
const PRICED_JS_STRING_METHODS: Record<string, (s: string, args: unknown[]) => unknown> = {
  repeat(s, [n]) {
    spendBuild(s.length * countArg(n), 'str.repeat()');
    return s.repeat(countArg(n));
  },
  padStart(s, [n, fill]) {
    spendBuild(countArg(n) - s.length, 'str.padStart()');
    return s.padStart(countArg(n), fill === undefined ? undefined : String(fill));
  },
  padEnd(s, [n, fill]) {
    spendBuild(countArg(n) - s.length, 'str.padEnd()');
    return s.padEnd(countArg(n), fill === undefined ? undefined : String(fill));
  },
  replaceAll(s, [old, replacement]) {
    spendReplace(s, String(old), String(replacement), 'str.replaceAll()');
    return s.split(String(old)).join(String(replacement));
  },
};

// Python semantics win over JavaScript's for these string methods (JS replace() changes only
// the first occurrence; JS split() without a separator does not split on whitespace).
const STRING_OVERRIDES = new Set(['split', 'replace']);

/**
 * Teaches nunjucks' member lookup Python's str/dict/list methods. The change is additive: it
 * only answers names a value does not already have (an own `items` key in a payload still wins),
 * plus Python's split/replace on strings. It is process-wide because nunjucks resolves members
 * through its shared runtime module.
 */
function patchPythonMethods(): void {
  const runtime = (
    nunjucks as unknown as { runtime: { memberLookup: (obj: unknown, val: unknown) => unknown } }
  ).runtime;
  const original = runtime.memberLookup;
  runtime.memberLookup = function memberLookup(obj: unknown, val: unknown): unknown {
    if (typeof val === 'string') {
      if (typeof obj === 'string' || Array.isArray(obj)) guardInput(obj, `.${val}`);
      if (typeof obj === 'string') {
        const priced = PRICED_JS_STRING_METHODS[val];
        if (priced) return (...args: unknown[]) => priced(obj, args);
        const m = STRING_METHODS[val];
        if (m && (STRING_OVERRIDES.has(val) || !(val in String.prototype)))
          return (...args: unknown[]) => m.apply(obj, args);
      } else if (Array.isArray(obj)) {
        if (val === 'join')
          return (sep: unknown = ',') => {
            spendBuild(Math.max(0, obj.length - 1) * String(sep).length, 'list.join()');
            return obj.join(String(sep));
          };
        const m = LIST_METHODS[val];
        if (m && !(val in Array.prototype)) return (...args: unknown[]) => m.apply(obj, args);
      } else if (isPlainObject(obj) && !Object.prototype.hasOwnProperty.call(obj, val)) {
        const m = DICT_METHODS[val];
        if (m) return (...args: unknown[]) => m.apply(obj, args);
      }
    }
    return original(obj, val);
  };
}

/* ------------------------------------------------------------------ environment */

interface RenderContextThis {
  ctx: Record<string, unknown>;
}

function optionsOf(self: RenderContextThis | undefined): JinjaOptions {
  return (self?.ctx?.[OPTS_KEY] as JinjaOptions | undefined) ?? {};
}

function checkDeadline(self: RenderContextThis | undefined): void {
  const { deadline } = optionsOf(self);
  if (deadline !== undefined && Date.now() > deadline)
    throw new SquallError('JINJA_DEADLINE', 'rendering took longer than its time limit and was stopped', {
      deadline: new Date(deadline).toISOString(),
    });
}

/** Python's range(), bounded to MAX_RANGE_ITEMS items and checking the render deadline. */
function boundedRange(this: RenderContextThis, ...args: unknown[]): number[] {
  checkDeadline(this);
  const nums = args.map(Number);
  const [start, stop, step] = nums.length <= 1 ? [0, nums[0] ?? 0, 1] : [nums[0], nums[1], nums[2] ?? 1];
  if (![start, stop, step].every(Number.isFinite) || step === 0)
    throw new Error(`range() arguments must be finite numbers and step not 0, got ${JSON.stringify(args)}`);
  const count = Math.max(0, Math.ceil((stop - start) / step));
  if (count > MAX_RANGE_ITEMS)
    throw new Error(`range() of ${count} items is over the limit of ${MAX_RANGE_ITEMS}`);
  return Array.from({ length: count }, (_, i) => start + i * step);
}

/** Adapts a positional filter to nunjucks' calling convention (keyword args arrive as an object). */
function adaptFilter(
  fn: FilterFunction,
  params: string[],
): (this: RenderContextThis, ...args: unknown[]) => unknown {
  return function (this: RenderContextThis, ...args: unknown[]) {
    const { positional, named } = kwargs(args);
    if (Object.keys(named).length) {
      const all = [...positional];
      params.forEach((p, idx) => {
        if (p in named) all[idx + 1] = named[p];
      });
      return fn.apply(this, all as [unknown, ...unknown[]]);
    }
    return fn.apply(this, positional as [unknown, ...unknown[]]);
  };
}

const FILTER_PARAMS: Record<string, string[]> = {
  center: ['width'],
  to_json_string: ['indent', 'sort_keys', 'separators'],
  to_yaml_string: ['indent', 'allow_unicode'],
  regex_match: ['pattern', 'ignorecase'],
  regex_search: ['pattern', 'ignorecase'],
  regex_replace: ['pattern', 'replacement', 'ignorecase'],
  regex_substring: ['pattern', 'result_index', 'ignorecase'],
  jsonpath_query: ['query'],
  tojson: ['indent'],
  to_json: ['indent'],
  int: ['default', 'base'],
  float: ['default'],
  join: ['d', 'attribute'],
  dictsort: ['case_sensitive', 'by', 'reverse'],
  unique: ['case_sensitive', 'attribute'],
  groupby: ['attribute', 'default', 'case_sensitive'],
  slice: ['slices', 'fill_with'],
  batch: ['linecount', 'fill_with'],
  min: ['case_sensitive', 'attribute'],
  max: ['case_sensitive', 'attribute'],
  truncate: ['length', 'killwords', 'end', 'leeway'],
  round: ['precision', 'method'],
  sum: ['attribute', 'start'],
  wordwrap: ['width', 'break_long_words', 'wrapstring'],
};

// Jinja2's operator spellings of its comparison tests (`selectattr('age', '>', 3)`).
const TEST_ALIASES: Record<string, string> = {
  '==': 'eq',
  '!=': 'ne',
  '>': 'gt',
  '>=': 'ge',
  '<': 'lt',
  '<=': 'le',
  greaterthan: 'gt',
  lessthan: 'lt',
};

let environment: nunjucks.Environment | null = null;

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type NunjucksFilter = Function;

/** Every filter, output included, refuses a value grown past the build budget. */
function guardFilterInputs(e: nunjucks.Environment): void {
  const filters = (e as unknown as { filters: Record<string, NunjucksFilter> }).filters;
  for (const [name, original] of Object.entries(filters))
    e.addFilter(name, function (this: unknown, value: unknown, ...args: unknown[]) {
      guardInput(value, name.startsWith('__') ? 'the output' : `the ${name} filter`);
      return original.call(this, value, ...args);
    });
}

/** Filters whose output can be far larger than their input, priced before they run. */
function priceFilters(e: nunjucks.Environment): void {
  const price = (name: string, params: string[], cost: (value: unknown, args: unknown[]) => number): void => {
    const original = e.getFilter(name) as NunjucksFilter;
    e.addFilter(name, function (this: unknown, value: unknown, ...args: unknown[]) {
      const { positional, named } = kwargs(args);
      const all = params.map((p, i) => (p in named ? named[p] : positional[i]));
      spendBuild(cost(value, all), `the ${name} filter`);
      return original.call(this, value, ...args);
    });
  };
  const text = (value: unknown): string => (value === null || value === undefined ? '' : String(value));
  const lines = (value: unknown): number => occurrences(text(value), '\n') + 1;
  price('center', ['width'], (value, [width]) => countArg(width ?? 80) - text(value).length);
  price('indent', ['width'], (value, [width]) => lines(value) * countArg(width ?? 4));
  price('batch', ['linecount', 'fill_with'], (_value, [size, fill]) => (fill ? countArg(size) : 0));
  price('slice', ['slices'], (_value, [slices]) => countArg(slices));
  price('replace', ['old', 'new', 'count'], (value, [old, replacement, maxCount]) => {
    const cap = maxCount === undefined || maxCount === null ? Infinity : countArg(maxCount);
    const grow = text(replacement).length - text(old).length;
    return grow > 0 ? occurrences(text(value), text(old), cap) * grow : 0;
  });
  price('join', FILTER_PARAMS.join, (value, [sep]) => {
    const n = typeof value === 'string' ? value.length : Array.isArray(value) ? value.length : 0;
    return Math.max(0, n - 1) * text(sep).length;
  });
  // Every match may insert the replacement, whose group references copy (at most) the text again.
  price('regex_replace', FILTER_PARAMS.regex_replace, (value, [, replacement]) => {
    const t = text(value);
    const refs = (text(replacement).match(/\\(?:\d|g<)/g) ?? []).length;
    return (t.length + 1) * text(replacement).length + refs * t.length;
  });
  // Each value is written on its own line, indented once per level it is nested at.
  const indented = (value: unknown, indent: unknown): number => {
    const width = typeof indent === 'string' ? indent.length : countArg(indent);
    return width ? width * nestingOf(value) : 0;
  };
  price('to_json_string', FILTER_PARAMS.to_json_string, (value, [indent]) => indented(value, indent));
  price('to_yaml_string', FILTER_PARAMS.to_yaml_string, (value, [indent]) => indented(value, indent));
}

/** The sum of the nesting levels of every value a JSON-like value holds (objects met twice count once). */
function nestingOf(value: unknown): number {
  let total = 0;
  const seen = new Set<unknown>();
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [v, d] = stack.pop() as [unknown, number];
    total += d;
    if (v === null || typeof v !== 'object' || seen.has(v)) continue;
    seen.add(v);
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, d + 1]);
  }
  return total;
}

let patched = false;

/**
 * Squall's changes to nunjucks, each in its own module, installed here once for the process and
 * in this order: each member-lookup patch wraps the ones before it (the subscripts' outermost, the
 * sandbox's around the Python methods).
 */
function installNunjucksPatches(): void {
  if (patched) return;
  patched = true;
  patchPythonSyntax();
  patchPythonMethods();
  patchPythonComparisons();
  patchPythonArithmetic();
  patchPythonLogic();
  patchNamespace();
  patchFloatOutput(OUTPUT_FILTER, FLOAT_OUTPUT_FILTER);
  patchTemplateSandbox();
  patchPythonSubscripts();
}

/** Set when the patches' self-check failed: every render then fails with it. */
let patchFailure: SquallError | undefined;

function env(): nunjucks.Environment {
  if (environment) {
    if (patchFailure) throw patchFailure;
    return environment;
  }
  installNunjucksPatches();
  const e = new nunjucks.Environment(null, {
    autoescape: false,
    trimBlocks: true,
    lstripBlocks: true,
    throwOnUndefined: false,
    // Keeps the error a filter threw as the render error's `cause` (a decrypt refusal stays a 403).
    dev: true,
  });
  const filters: Record<string, FilterFunction> = { ...jinjaBuiltins, ...st2Filters };
  for (const [name, fn] of Object.entries(filters))
    e.addFilter(name, adaptFilter(fn, FILTER_PARAMS[name] ?? []));
  // Jinja2's string filters take str() of the value; nunjucks' call string methods on it and threw.
  for (const name of ['trim', 'capitalize', 'title', 'striptags', 'escape', 'e', 'urlencode', 'replace']) {
    const builtin = e.getFilter(name);
    e.addFilter(name, function (this: unknown, value: unknown, ...args: unknown[]) {
      return builtin.call(this, pyStringInput(value), ...args);
    });
  }
  for (const [name, what] of [
    ['first', 'iterable'],
    ['last', 'reversible'],
  ] as const) {
    const builtin = e.getFilter(name);
    e.addFilter(name, function (this: unknown, value: unknown, ...args: unknown[]) {
      return value === undefined ? undefined : builtin.call(this, pySequenceInput(value, what), ...args);
    });
  }
  e.addFilter('decrypt_kv', function (this: RenderContextThis, value: unknown) {
    return createSt2Filters({ decrypt: optionsOf(this).decrypt }).decrypt_kv(value);
  });
  e.addFilter('map', function (this: RenderContextThis, value: unknown, ...args: unknown[]) {
    const { positional, named } = kwargs(args);
    const items = Array.isArray(value) ? value : isPlainObject(value) ? Object.keys(value) : [];
    if (typeof named.attribute === 'string') {
      const path = named.attribute.split('.');
      return items.map(
        (it) =>
          path.reduce<unknown>(
            (acc, k) => (acc === null || acc === undefined ? undefined : (acc as Record<string, unknown>)[k]),
            it,
          ) ?? named.default,
      );
    }
    const name = positional[0];
    if (typeof name !== 'string') throw new Error('map() needs a filter name or attribute=');
    const f = e.getFilter(name);
    return items.map((it) => f.call(this, it, ...positional.slice(1)));
  });
  // Jinja2's selectattr/rejectattr take a test and its arguments (nunjucks' only the attribute).
  const byAttribute = (keep: boolean, withAttribute: boolean) =>
    function (this: RenderContextThis, value: unknown, ...rest: unknown[]) {
      const items = Array.isArray(value) ? value : isPlainObject(value) ? Object.keys(value) : [];
      const path = withAttribute ? String(rest[0]).split('.') : [];
      const args = withAttribute ? rest.slice(1) : rest;
      const at = (it: unknown): unknown =>
        path.reduce<unknown>(
          (acc, k) => (acc === null || acc === undefined ? undefined : (acc as Record<string, unknown>)[k]),
          it,
        );
      if (args.length === 0) return items.filter((it) => pyTruthy(at(it)) === keep);
      const name = String(args[0]);
      const test = (e as unknown as { getTest(n: string): (...a: unknown[]) => unknown }).getTest(
        TEST_ALIASES[name] ?? name,
      );
      if (typeof test !== 'function') throw new Error(`no test named '${name}'`);
      return items.filter((it) => pyTruthy(test.call(this, at(it), ...args.slice(1))) === keep);
    };
  e.addFilter('selectattr', byAttribute(true, true));
  e.addFilter('rejectattr', byAttribute(false, true));
  e.addFilter('select', byAttribute(true, false));
  e.addFilter('reject', byAttribute(false, false));
  e.addFilter('format', function (this: RenderContextThis, value: unknown, ...args: unknown[]) {
    const { positional, named } = kwargs(args);
    return pyPercentFormat(pyStr(value), Object.keys(named).length ? named : pyTuple(positional));
  });
  priceFilters(e);
  e.addGlobal('range', boundedRange);
  e.addGlobal('namespace', pyNamespace);
  e.addFilter(OUTPUT_FILTER, function (this: RenderContextThis, value: unknown) {
    checkDeadline(this);
    return pyStr(value);
  });
  e.addFilter(FLOAT_OUTPUT_FILTER, function (this: RenderContextThis, value: unknown) {
    checkDeadline(this);
    return pyFloatStr(value);
  });
  e.addFilter(CAPTURE_FILTER, function (this: RenderContextThis, value: unknown) {
    checkDeadline(this);
    (this.ctx[CAPTURE_KEY] as { value: unknown }).value = value;
    return '';
  });
  guardFilterInputs(e);
  const addTest = (name: string, fn: (v: unknown, arg?: unknown) => boolean): void => {
    (e as unknown as { addTest: (n: string, f: (v: unknown, arg?: unknown) => boolean) => void }).addTest(
      name,
      fn,
    );
  };
  addTest('none', (v: unknown) => v === null);
  addTest('boolean', (v: unknown) => typeof v === 'boolean');
  addTest('integer', (v: unknown) => typeof v === 'number' && Number.isInteger(v));
  addTest('float', (v: unknown) => typeof v === 'number' && !Number.isInteger(v));
  addTest('sequence', (v: unknown) => Array.isArray(v) || typeof v === 'string');
  addTest('true', (v: unknown) => v === true);
  addTest('false', (v: unknown) => v === false);
  addTest('in', (v: unknown, seq?: unknown) =>
    typeof seq === 'string'
      ? seq.includes(pyStr(v))
      : Array.isArray(seq)
        ? seq.some((x) => pyEquals(x, v))
        : isPlainObject(seq) && typeof v === 'string' && Object.prototype.hasOwnProperty.call(seq, v),
  );
  environment = e;
  try {
    checkPatches((template) => renderTemplate(template, {}));
  } catch (err) {
    patchFailure = err as SquallError;
    throw err;
  }
  return e;
}

/**
 * Parsed templates by their source, the last 2,000 used, and 1 M of source text at most: a parsed
 * template holds up to ~55 times its text, and anyone who may run an action sends templates.
 */
const templates = textKeyedCache<nunjucks.Template>(2000, 1024 * 1024);

function compiled(source: string, original: string, options: JinjaOptions): nunjucks.Template {
  const hit = templates.get(source);
  if (hit) return hit;
  let t: nunjucks.Template;
  try {
    t = new nunjucks.Template(source, env(), undefined, true);
  } catch (err) {
    // A patch that no longer fits nunjucks is Squall's fault, not the template's: said as it is.
    const mismatch = [err, squallCause(err)].find(
      (e) => e instanceof SquallError && e.code === 'JINJA_PATCH_MISMATCH',
    );
    if (mismatch) throw mismatch;
    throw new JinjaRenderError(original, cleanReason(err), { source: options.source, phase: 'parse' });
  }
  templates.set(source, t);
  return t;
}

/** The SquallError a filter threw, under nunjucks' (possibly nested) TemplateError wrappers. */
function squallCause(err: unknown): SquallError | undefined {
  for (let e = err, depth = 0; e && depth < 10; e = (e as { cause?: unknown }).cause, depth++) {
    if (depth > 0 && e instanceof SquallError) return e;
  }
  return undefined;
}

function cleanReason(err: unknown): string {
  if (err instanceof SquallError) return err.message;
  const msg = err instanceof Error ? err.message : String(err);
  // nunjucks wraps causes as "(unknown path) [Line 1, Column 4]\n  Error: reason"; keep position and reason.
  const pos = /\[Line (\d+), Column (\d+)\]/.exec(msg);
  const reason = msg
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^\(unknown path\)/.test(l) && !/^Template render error/.test(l))
    .join(' ')
    .replace(/^(Error|TypeError|RangeError|SquallError):\s*/, '');
  return pos ? `${reason} (line ${pos[1]}, column ${pos[2]})` : reason;
}

function renderContext(
  context: Record<string, unknown>,
  options: JinjaOptions,
  capture?: { value: unknown },
): Record<string, unknown> {
  return {
    ...(options.functions ?? {}),
    ...context,
    True: true,
    False: false,
    None: null,
    [OPTS_KEY]: options,
    ...(capture ? { [CAPTURE_KEY]: capture } : {}),
  };
}

function run(
  source: string,
  original: string,
  context: Record<string, unknown>,
  options: JinjaOptions,
  capture?: { value: unknown },
): string {
  const template = compiled(source, original, options);
  // Whether decrypt_kv opened a secret in this render: an error's reason may then quote it, whole
  // or cut short (JSON.parse quotes its input), into an API answer, an enforcement or a chat thread.
  let revealed = false;
  const decrypt = options.decrypt;
  const opts: JinjaOptions = decrypt
    ? {
        ...options,
        decrypt: (ciphertext) => {
          const plain = decrypt(ciphertext);
          revealed = true;
          return plain;
        },
      }
    : options;
  try {
    return withBuildBudget(
      () => template.render(renderContext(context, opts, capture)),
      'JINJA_TOO_LARGE',
      options.deadline,
    );
  } catch (err) {
    const cause = squallCause(err);
    // A refusal (decrypt_kv of a key the user may not open) stays a 403.
    const status = cause instanceof SquallError && cause.status === 403 ? 403 : 400;
    if (revealed)
      throw new JinjaRenderError(
        original,
        'it failed after decrypt_kv opened a secret; the reason is withheld, since it could quote the secret',
        { source: options.source, phase: 'render' },
        status,
      );
    throw new JinjaRenderError(
      original,
      cleanReason(err),
      {
        source: options.source,
        phase: 'render',
        ...(cause instanceof SquallError ? { cause: cause.toJSON() } : {}),
      },
      status,
    );
  }
}

/**
 * st2-style string rendering: the result is always a string, values print as Python's str().
 * Undefined names print as '' (Jinja2's default Undefined).
 */
export function renderTemplate(
  template: string,
  context: Record<string, unknown>,
  options: JinjaOptions = {},
): string {
  if (typeof template !== 'string')
    throw new JinjaRenderError(String(template), 'the template is not a string', { source: options.source });
  if (!template.includes('{{') && !template.includes('{%') && !template.includes('{#')) return template;
  let wrapped = wrappedSources.get(template);
  if (wrapped === undefined) {
    wrapped = wrapOutputs(scanTemplate(jinja2Source(template)), OUTPUT_FILTER);
    if (wrappedSources.size >= 2000) wrappedSources.clear();
    wrappedSources.set(template, wrapped);
  }
  return run(wrapped, template, context, options);
}

const wrappedSources = new Map<string, string>();

/**
 * The template text as Jinja2's lexer reads it: every \r\n and \r a \n, and one newline at the end
 * dropped (st2 and orquesta leave keep_trailing_newline off), so a YAML block scalar's `|` text
 * renders without its last newline.
 */
function jinja2Source(template: string): string {
  const text = template.replace(/\r\n?/g, '\n');
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

/**
 * Orquesta semantics: a string that is exactly one `{{ expr }}` evaluates to the expression's
 * native value (object, array, number, boolean, null); anything else renders to a string.
 */
export function evaluateJinja(
  expression: string,
  context: Record<string, unknown>,
  options: JinjaOptions = {},
): unknown {
  if (typeof expression !== 'string') return expression;
  const single = singleExpression(expression);
  if (single === null) return renderTemplate(expression, context, options);
  const capture = { value: undefined as unknown };
  run(`{{ (${single}) | ${CAPTURE_FILTER} }}`, expression, context, options, capture);
  return capture.value === undefined ? null : capture.value;
}

/**
 * One Jinja expression's value (the text between `{{` and `}}`), `undefined` when it names
 * something that does not exist: orquesta renders with StrictUndefined and reports those.
 */
export function jinjaExpressionValue(
  body: string,
  context: Record<string, unknown>,
  options: JinjaOptions = {},
): unknown {
  const capture = { value: undefined as unknown };
  run(`{{ (${body}) | ${CAPTURE_FILTER} }}`, `{{ ${body} }}`, context, options, capture);
  return capture.value;
}

/**
 * Renders a parameter value the way st2 renders action and rule parameters: a string renders to a
 * string (the declared type's cast applies later); inside arrays and objects a string that is
 * exactly `{{ expr }}` keeps the expression's native type (st2 appends `| to_complex` there).
 * `context` is called only when a template needs it, so plain values cost nothing.
 */
export function renderValue(
  value: unknown,
  context: Record<string, unknown> | (() => Record<string, unknown>),
  options: JinjaOptions = {},
  nested = false,
): unknown {
  if (typeof value === 'string') {
    if (!hasJinja(value)) return value;
    const ctx = typeof context === 'function' ? context() : context;
    return nested && singleExpression(value) !== null
      ? evaluateJinja(value, ctx, options)
      : renderTemplate(value, ctx, options);
  }
  if (Array.isArray(value)) return value.map((v) => renderValue(v, context, options, true));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, renderValue(v, context, options, true)]),
    );
  }
  return value;
}

/**
 * Names a template reads from its context (top-level variables, not attributes, filters, tests,
 * loop or `set` variables). Used to order parameters that reference each other.
 */
export function findTemplateVariables(template: string): Set<string> {
  const found = new Set<string>();
  if (!hasJinja(template)) return found;
  const source = scanTemplate(template)
    .map((s) => s.raw)
    .join('');
  installNunjucksPatches(); // the parser's, for slices
  let ast: unknown;
  try {
    ast = (
      nunjucks as unknown as { parser: { parse: (src: string, ext: unknown[], opts: unknown) => unknown } }
    ).parser.parse(source, [], {});
  } catch (err) {
    throw new JinjaRenderError(template, cleanReason(err), { phase: 'parse' });
  }
  const local = new Set<string>();
  const collectTargets = (node: any): void => {
    if (!node || typeof node !== 'object') return;
    if (node.typename === 'Symbol') local.add(node.value);
    for (const c of node.children ?? []) collectTargets(c);
    for (const f of node.fields ?? []) if (f !== 'value') collectTargets(node[f]);
  };
  const walk = (node: any, skip: Set<any>): void => {
    if (!node || typeof node !== 'object' || skip.has(node)) return;
    switch (node.typename) {
      case 'Symbol':
        if (!local.has(node.value)) found.add(node.value);
        return;
      case 'Filter':
      case 'FilterAsync':
        walk(node.args, skip);
        return;
      case 'Is':
        walk(node.left, skip);
        if (node.right?.typename === 'FunCall') walk(node.right.args, skip);
        return;
      case 'For':
      case 'AsyncEach':
      case 'AsyncAll':
        walk(node.arr, skip);
        collectTargets(node.name);
        walk(node.body, skip);
        walk(node.else_, skip);
        return;
      case 'Set':
        walk(node.value, skip);
        walk(node.body, skip);
        for (const t of node.targets ?? []) collectTargets(t);
        return;
      case 'KeywordArgs':
        for (const pair of node.children ?? []) walk(pair.value, skip);
        return;
      case 'Macro':
        return;
      case 'LookupVal':
        walk(node.target, skip);
        if (node.val?.typename !== 'Literal') walk(node.val, skip);
        return;
      default:
        for (const c of node.children ?? []) walk(c, skip);
        for (const f of node.fields ?? []) walk(node[f], skip);
    }
  };
  walk(ast, new Set());
  for (const name of ['True', 'False', 'None', 'loop']) found.delete(name);
  return found;
}
