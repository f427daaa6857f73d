/**
 * StackStorm's custom Jinja filters (st2-reference.md §2.1; st2common/expressions/functions/*) and
 * the Jinja2 builtins nunjucks lacks or prints differently. Every filter takes the piped value
 * first, then positional arguments, like the Python functions they mirror.
 */
import { SquallError } from '../../../errors.js';
import { pyYamlDump, pyYamlLoad } from './pyyaml.js';
import { pyAdd } from './arithmetic.js';
import { spendBuild } from './budget.js';
import {
  NONE_MAGIC_VALUE,
  isPlainObject,
  pyEquals,
  pyJsonDumps,
  pyOrder,
  pyStr,
  pyTuple,
  pyTypeName,
} from './python.js';
import { pyFindAll, pyReplacement } from './pyregex.js';
import { pyRegexAll, pyRegexTest, replaceMatches } from './linear-regex.js';
import { queryJsonPath } from './jsonpath.js';
import { bumpVersion, compareVersions, matchVersion, parseVersion } from './semver.js';

export type FilterFunction = (value: any, ...args: any[]) => unknown;

export interface FilterDeps {
  decrypt?: (ciphertext: string) => string;
}

function filterError(filter: string, why: string, context: Record<string, unknown> = {}): SquallError {
  return new SquallError('JINJA_FILTER', `Filter "${filter}": ${why}`, { filter, ...context });
}

function asText(value: unknown): string {
  return typeof value === 'string' ? value : pyStr(value);
}

function notIterable(value: unknown, what = 'iterable'): SquallError {
  return new SquallError('JINJA_PYTHON_TYPE_ERROR', `'${pyTypeName(value)}' object is not ${what}`, {
    python: 'TypeError',
  });
}

/**
 * The value a Jinja2 string filter sees: Jinja2 calls str() on it first (`{{ code | trim }}` of an
 * integer is "200", of None "None"), and an undefined name is the empty string.
 */
export function pyStringInput(value: unknown): unknown {
  if (value === undefined) return '';
  return typeof value === 'boolean' || typeof value === 'number' || value === null ? pyStr(value) : value;
}

/** first/last: an undefined name gives undefined (prints nothing), None is not iterable. */
export function pySequenceInput(value: unknown, what: 'iterable' | 'reversible'): unknown {
  if (value === null || typeof value === 'boolean' || typeof value === 'number')
    throw notIterable(value, what);
  return value;
}

function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (isPlainObject(value)) return Object.keys(value).length > 0;
  return Boolean(value);
}

function pySeparators(value: unknown): [string, string] | null {
  if (Array.isArray(value) && value.length === 2) return [String(value[0]), String(value[1])];
  return null;
}

function humanTime(seconds: unknown): string | null {
  if (seconds === null || seconds === undefined) return null;
  if (typeof seconds !== 'number' || Number.isNaN(seconds)) {
    throw filterError('to_human_time_from_seconds', `expects a number of seconds, got ${pyStr(seconds)}`);
  }
  if (seconds === 0) return '0s';
  if (seconds < 1) return `${seconds}\u03bcs`;
  let rest = Math.round(seconds);
  const secs = rest % 60;
  rest = Math.floor(rest / 60);
  const mins = rest % 60;
  rest = Math.floor(rest / 60);
  const hours = rest % 24;
  rest = Math.floor(rest / 24);
  const days = rest % 365;
  const years = Math.floor(rest / 365);
  const parts = [years, days, hours, mins, secs];
  const first = parts.findIndex((x) => x !== 0);
  const suffixes = ['y', 'd', 'h', 'm', 's'];
  return parts
    .slice(first)
    .map((x, i) => `${x}${suffixes[first + i]}`)
    .join('');
}

function pyBasename(p: unknown): string {
  const s = asText(p);
  return s.slice(s.lastIndexOf('/') + 1);
}

function pyDirname(p: unknown): string {
  const s = asText(p);
  const head = s.slice(0, s.lastIndexOf('/') + 1);
  return head && !/^\/+$/.test(head) ? head.replace(/\/+$/, '') : head;
}

function toInt(value: unknown, def: unknown = 0, base: unknown = 10): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : def;
  if (typeof value === 'string') {
    const t = value.trim().replace(/_/g, '');
    const b = Number(base) || 10;
    const intRe =
      b === 16
        ? /^[-+]?(0x)?[0-9a-f]+$/i
        : b === 8
          ? /^[-+]?(0o)?[0-7]+$/i
          : b === 2
            ? /^[-+]?(0b)?[01]+$/i
            : /^[-+]?\d+$/;
    if (intRe.test(t)) return parseInt(t.replace(/^([-+]?)0[xob]/i, '$1'), b);
    const f = Number(t);
    if (t !== '' && Number.isFinite(f)) return Math.trunc(f);
  }
  return def;
}

function toFloat(value: unknown, def: unknown = 0): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '') {
    const f = Number(value.trim());
    if (!Number.isNaN(f)) return f;
  }
  return def;
}

function toBool(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (value === null || value === undefined) return false;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string')
    return ['yes', 'on', '1', 'true', 'y', 't'].includes(value.trim().toLowerCase());
  return truthy(value);
}

function attr(value: unknown, path: string): unknown {
  let cur: unknown = value;
  for (const part of path.split('.')) {
    if (cur === null || cur === undefined) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** What a filter iterates: a list, a str's characters, a dict's keys. */
function iterate(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (typeof value === 'string') return [...value];
  if (isPlainObject(value)) return Object.keys(value);
  return [];
}

/** Jinja2's ignore_case: strings lowered unless case_sensitive. */
function foldCase(v: unknown, caseSensitive: unknown): unknown {
  return !caseSensitive && typeof v === 'string' ? v.toLowerCase() : v;
}

/** Python's sort order, which refuses to order values of unrelated types. */
function pyOrderOrThrow(a: unknown, b: unknown): number {
  const order = pyOrder(a, b);
  if (order === undefined)
    throw new SquallError(
      'JINJA_PYTHON_TYPE_ERROR',
      `'<' not supported between instances of '${pyTypeName(a)}' and '${pyTypeName(b)}'`,
      { python: 'TypeError' },
    );
  return order;
}

/** The first item (sign -1) or the last (sign 1) in Python's order, by attribute if given. */
function extreme(value: unknown, caseSensitive: unknown, attribute: unknown, sign: number): unknown {
  const key = (x: unknown): unknown =>
    foldCase(attribute === null ? x : attr(x, String(attribute)), caseSensitive);
  let best: unknown = undefined;
  let found = false;
  for (const x of iterate(value)) {
    if (!found || sign * pyOrderOrThrow(key(x), key(best)) > 0) best = x;
    found = true;
  }
  return best;
}

/** The st2 filters, positional-argument form (also what Orquesta exposes as YAQL functions). */
export function createSt2Filters(deps: FilterDeps = {}): Record<string, FilterFunction> {
  return {
    decrypt_kv(value: unknown): string {
      if (value === undefined || value === null || value === '') {
        throw filterError(
          'decrypt_kv',
          "the referenced datastore item doesn't exist (the value to decrypt is empty)",
        );
      }
      if (!deps.decrypt) {
        throw filterError(
          'decrypt_kv',
          'no datastore decryption is available here (the renderer was given no decrypt function)',
        );
      }
      return deps.decrypt(asText(value));
    },
    from_json_string(value: unknown): unknown {
      try {
        return JSON.parse(asText(value));
      } catch (err) {
        throw filterError('from_json_string', `value is not valid JSON: ${(err as Error).message}`);
      }
    },
    from_yaml_string(value: unknown): unknown {
      try {
        return pyYamlLoad(asText(value));
      } catch (err) {
        throw filterError('from_yaml_string', `value is not valid YAML: ${(err as Error).message}`);
      }
    },
    json_escape(value: unknown): string {
      return pyJsonDumps(value).replace(/^"+|"+$/g, '');
    },
    jsonpath_query(value: unknown, query: unknown): unknown[] | null {
      const matches = queryJsonPath(value, asText(query));
      return matches.length ? matches : null;
    },
    to_complex(value: unknown): string {
      return pyJsonDumps(value);
    },
    to_json_string(
      value: unknown,
      indent: unknown = null,
      sortKeys: unknown = false,
      separators: unknown = [',', ': '],
    ): string {
      return pyJsonDumps(value, {
        indent: indent === null || indent === undefined ? null : (indent as number | string),
        sortKeys: Boolean(sortKeys),
        separators: pySeparators(separators),
      });
    },
    to_yaml_string(value: unknown, indent: unknown = null): string {
      return pyYamlDump(value ?? null, indent);
    },
    regex_match(value: unknown, pattern: unknown, ignorecase: unknown = false): boolean {
      return pyRegexTest(asText(pattern), asText(value), { ignoreCase: Boolean(ignorecase), anchored: true });
    },
    regex_replace(
      value: unknown,
      pattern: unknown,
      replacement: unknown,
      ignorecase: unknown = false,
    ): string {
      const text = asText(value);
      const matches = pyRegexAll(asText(pattern), text, { ignoreCase: Boolean(ignorecase) });
      return replaceMatches(text, matches, pyReplacement(asText(replacement)));
    },
    regex_search(value: unknown, pattern: unknown, ignorecase: unknown = false): boolean {
      return pyRegexTest(asText(pattern), asText(value), { ignoreCase: Boolean(ignorecase) });
    },
    regex_substring(
      value: unknown,
      pattern: unknown,
      resultIndex: unknown = 0,
      ignorecase: unknown = false,
    ): unknown {
      const text = asText(value);
      const all = pyFindAll(pyRegexAll(asText(pattern), text, { ignoreCase: Boolean(ignorecase) }));
      let idx = Number(resultIndex);
      if (idx < 0) idx += all.length;
      if (!Number.isInteger(idx) || idx < 0 || idx >= all.length) {
        throw filterError(
          'regex_substring',
          `no match number ${String(resultIndex)} for pattern "${asText(pattern)}" (found ${all.length}): list index out of range`,
          {
            pattern: asText(pattern),
          },
        );
      }
      return all[idx];
    },
    to_human_time_from_seconds: humanTime,
    version_compare: (value: unknown, pattern: unknown) => compareVersions(value, pattern),
    version_more_than: (value: unknown, pattern: unknown) => compareVersions(value, pattern) === 1,
    version_less_than: (value: unknown, pattern: unknown) => compareVersions(value, pattern) === -1,
    version_equal: (value: unknown, pattern: unknown) => compareVersions(value, pattern) === 0,
    version_match: (value: unknown, pattern: unknown) => matchVersion(value, pattern),
    version_bump_major: (value: unknown) => bumpVersion(value, 'major'),
    version_bump_minor: (value: unknown) => bumpVersion(value, 'minor'),
    version_bump_patch: (value: unknown) => bumpVersion(value, 'patch'),
    version_strip_patch(value: unknown): string {
      const v = parseVersion(value);
      return `${v.major}.${v.minor}`;
    },
    use_none: (value: unknown) => (value === null || value === undefined ? NONE_MAGIC_VALUE : value),
    basename: pyBasename,
    dirname: pyDirname,
  };
}

/** st2 filters without a decrypt function (decrypt_kv then raises a clear error). */
export const st2Filters: Record<string, FilterFunction> = createSt2Filters();

/** Jinja2 builtins that nunjucks lacks, or implements with JavaScript rather than Python results. */
export const jinjaBuiltins: Record<string, FilterFunction> = {
  tojson(value: unknown, indent: unknown = null): string {
    return pyJsonDumps(value, {
      indent: indent === null || indent === undefined ? null : (indent as number),
      sortKeys: true,
      htmlSafe: true,
      ensureAscii: true,
    });
  },
  to_json(value: unknown, indent: unknown = null): string {
    return pyJsonDumps(value, {
      indent: indent === null || indent === undefined ? null : (indent as number),
    });
  },
  int: toInt,
  float: toFloat,
  bool: toBool,
  string: (value: unknown) => (value === undefined ? '' : pyStr(value)),
  lower: (value: unknown) => (value === undefined ? '' : asText(value)).toLowerCase(),
  upper: (value: unknown) => (value === undefined ? '' : asText(value)).toUpperCase(),
  join(value: unknown, sep: unknown = '', attribute: unknown = null): string {
    if (value === null || value === undefined) return '';
    const items =
      typeof value === 'string'
        ? [...value]
        : Array.isArray(value)
          ? value
          : isPlainObject(value)
            ? Object.keys(value)
            : [value];
    return items.map((x) => pyStr(attribute ? attr(x, String(attribute)) : x)).join(asText(sep ?? ''));
  },
  // Jinja2's: strings compare without case unless case_sensitive; the first of each kept.
  unique(value: unknown, caseSensitive: unknown = false, attribute: unknown = null): unknown[] {
    const out: unknown[] = [];
    const seen = new Set<string>();
    for (const x of iterate(value)) {
      const k = pyJsonDumps(foldCase(attribute === null ? x : attr(x, String(attribute)), caseSensitive));
      if (!seen.has(k)) {
        seen.add(k);
        out.push(x);
      }
    }
    return out;
  },
  // Jinja2's: sorted by the attribute, then (grouper, list) tuples; without case_sensitive strings
  // group without case and the grouper is the first item's own value.
  groupby(value: unknown, attribute: unknown, defaultValue: unknown = null, caseSensitive: unknown = false) {
    const raw = (x: unknown): unknown => attr(x, String(attribute)) ?? defaultValue;
    const keyed = iterate(value).map((x) => ({ x, key: foldCase(raw(x), caseSensitive) }));
    keyed.sort((a, b) => pyOrderOrThrow(a.key, b.key));
    const groups: Array<{ key: unknown; items: unknown[] }> = [];
    for (const { x, key } of keyed) {
      const last = groups[groups.length - 1];
      if (last && pyEquals(last.key, key)) last.items.push(x);
      else groups.push({ key, items: [x] });
    }
    return groups.map(({ key, items }) => {
      const grouper = caseSensitive ? key : raw(items[0]);
      const tuple = pyTuple([grouper, items]);
      Object.defineProperty(tuple, 'grouper', { value: grouper });
      Object.defineProperty(tuple, 'list', { value: items });
      return tuple;
    });
  },
  // Jinja2's: `slices` lists, the first ones one longer; the shorter ones end with fill_with if given.
  slice(value: unknown, slices: unknown, fillWith: unknown = null): unknown[][] {
    const seq = iterate(value);
    const n = Number(slices);
    const per = Math.floor(seq.length / n);
    const extra = seq.length % n;
    const out: unknown[][] = [];
    let offset = 0;
    for (let i = 0; i < n; i += 1) {
      const start = offset + i * per;
      if (i < extra) offset += 1;
      const part = seq.slice(start, offset + (i + 1) * per);
      if (fillWith !== null && fillWith !== undefined && i >= extra) part.push(fillWith);
      out.push(part);
    }
    return out;
  },
  // Jinja2's: strings compare without case unless case_sensitive; an empty sequence gives nothing.
  min: (value: unknown, caseSensitive: unknown = false, attribute: unknown = null) =>
    extreme(value, caseSensitive, attribute, -1),
  max: (value: unknown, caseSensitive: unknown = false, attribute: unknown = null) =>
    extreme(value, caseSensitive, attribute, 1),
  // Jinja2's: lists of `linecount` items, the last one padded with fill_with if given.
  batch(value: unknown, linecount: unknown, fillWith: unknown = null): unknown[][] {
    const seq = iterate(value);
    const n = Math.max(1, Math.trunc(Number(linecount)));
    const out: unknown[][] = [];
    for (let i = 0; i < seq.length; i += n) out.push(seq.slice(i, i + n));
    const last = out[out.length - 1];
    if (last && fillWith !== null && fillWith !== undefined) while (last.length < n) last.push(fillWith);
    return out;
  },
  items: (value: unknown) => (isPlainObject(value) ? Object.entries(value).map((pair) => pyTuple(pair)) : []),
  // Python's list(): a dict gives its keys (nunjucks gave {key, value} objects).
  list(value: unknown): unknown[] {
    if (value === undefined) return [];
    if (typeof value === 'string') return [...value];
    if (Array.isArray(value)) return [...value];
    if (isPlainObject(value)) return Object.keys(value);
    throw notIterable(value);
  },
  wordcount: (value: unknown) => (asText(pyStringInput(value)).match(/[\p{L}\p{N}_]+/gu) ?? []).length,
  // Python's str.center: an odd margin puts the extra space left when the width is odd.
  center(value: unknown, width: unknown = 80): string {
    const s = value === undefined ? '' : asText(value);
    const w = Math.trunc(Number(width));
    const margin = w - s.length;
    if (!(margin > 0)) return s;
    const left = Math.floor(margin / 2) + (margin & w & 1);
    return ' '.repeat(left) + s + ' '.repeat(margin - left);
  },
  dictsort(value: unknown, caseSensitive: unknown = false, by: unknown = 'key', reverse: unknown = false) {
    if (!isPlainObject(value)) throw new Error('dictsort filter: the value is not a dict');
    const at = by === 'value' ? 1 : 0;
    const key = (v: unknown): unknown => foldCase(v, caseSensitive);
    const sorted = Object.entries(value).sort((a, b) => pyOrderOrThrow(key(a[at]), key(b[at])));
    if (reverse) sorted.reverse();
    return sorted.map((pair) => pyTuple(pair));
  },
  // Jinja2's: cut at a word boundary unless killwords, keep strings within length + leeway.
  truncate(
    value: unknown,
    length: unknown = 255,
    killwords: unknown = false,
    end: unknown = '...',
    leeway: unknown = 5,
  ) {
    const s = pyStr(value ?? '');
    const n = Number(length);
    const tail = asText(end ?? '...');
    if (s.length <= n + Number(leeway ?? 5)) return s;
    if (killwords) return s.slice(0, Math.max(0, n - tail.length)) + tail;
    const head = s.slice(0, Math.max(0, n - tail.length));
    const cut = head.lastIndexOf(' ');
    return (cut < 0 ? head : head.slice(0, cut)) + tail;
  },
  // Python's round() (halves to even) or math.floor/ceil at the precision.
  round(value: unknown, precision: unknown = 0, method: unknown = 'common') {
    const x = Number(value);
    const scale = 10 ** Number(precision ?? 0);
    const scaled = x * scale;
    if (method === 'floor') return Math.floor(scaled) / scale;
    if (method === 'ceil') return Math.ceil(scaled) / scale;
    if (method !== 'common') throw new Error('method must be common, ceil or floor');
    const whole = Math.floor(scaled);
    const rounded = scaled - whole === 0.5 ? (whole % 2 === 0 ? whole : whole + 1) : Math.round(scaled);
    return rounded / scale;
  },
  sum(value: unknown, attribute: unknown = null, start: unknown = 0): unknown {
    const items = Array.isArray(value) ? value : isPlainObject(value) ? Object.keys(value) : [];
    return items.reduce(
      (acc: unknown, it) =>
        pyAdd(acc, attribute === null || attribute === undefined ? it : attr(it, String(attribute))),
      start,
    );
  },
  // Python's textwrap as Jinja2's wordwrap uses it: greedy lines per paragraph, long words broken.
  wordwrap(value: unknown, width: unknown = 79, breakLongWords: unknown = true, wrapstring: unknown = null) {
    const w = Math.max(1, Number(width));
    const out: string[] = [];
    for (const para of pyStr(value ?? '').split(/\r\n|\r|\n/)) {
      let line = '';
      for (let word of para.split(/\s+/).filter(Boolean)) {
        while (breakLongWords && word.length > w) {
          const room = line ? w - line.length - 1 : w;
          if (room <= 0) {
            out.push(line);
            line = '';
            continue;
          }
          out.push((line ? line + ' ' : '') + word.slice(0, room));
          line = '';
          word = word.slice(room);
        }
        if (!line) line = word;
        else if (line.length + 1 + word.length <= w) line += ' ' + word;
        else {
          out.push(line);
          line = word;
        }
      }
      if (line) out.push(line);
    }
    const joined = out.join(wrapstring === null || wrapstring === undefined ? '\n' : asText(wrapstring));
    spendBuild(joined.length, 'the wordwrap filter');
    return joined;
  },
};
