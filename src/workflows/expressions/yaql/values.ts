import { spendBuild } from '../jinja/index.js';
import { SquallError } from '../../../errors.js';
import { YaqlFailure } from './errors.js';

/** How long one evaluation may run unless the caller gives its own deadline. */
export const YAQL_TIME_LIMIT_MS = 10_000;

let deadline = Infinity;
let ticks = 0;

/**
 * Runs `fn` with a time limit. An evaluation is synchronous: `range(1000000).select(range(1000000).sum())`
 * or `range(1000000).toSet()` (quadratic) would hold the whole process for hours, so the evaluator,
 * sequences and quadratic loops call `tick()`, which stops the evaluation past the deadline.
 */
export function withDeadline<T>(until: number, fn: () => T): T {
  const outer = deadline;
  deadline = Math.min(until, outer);
  try {
    return fn();
  } finally {
    deadline = outer;
  }
}

export function tick(): void {
  if ((++ticks & 0xff) === 0 && Date.now() > deadline)
    throw new SquallError(
      'YAQL_DEADLINE',
      'evaluating the expression took longer than its time limit and was stopped',
      {
        deadline: new Date(deadline).toISOString(),
      },
    );
}

/*
 * Runtime values. YAQL runs on Python values, and several of its behaviours depend on Python types
 * that JS does not have, so the evaluator works on a small internal model and converts at the
 * edges (`fromPlain` on the way in, `toPlain` on the way out, as orquesta does with yaql's
 * convert_input_data / convert_output_data):
 *
 * - int vs float: a JS number that is an integer is a Python int; any other number is a float;
 *   a float whose value happens to be integral (2.0) is a `YFloat`, so `7.0 / 2` and `str(2.0)`
 *   behave as in Python.
 * - dict: a `Map` (keys can be numbers, as in `{1 => 'a'}`), never mutated (YAQL freezes dicts).
 * - list: a JS array, never mutated (YAQL turns lists into tuples).
 * - iterator: a `YIter`; what the query functions (where, select, …) return. Iterators are
 *   iterable but not sequences, so `$.where(...)[0]` fails as it does in YAQL.
 * - set: a `YSet` (frozenset).
 */

export class YFloat {
  constructor(readonly value: number) {}
}

/** A lazily computed sequence. Re-iterable: each iteration calls the factory again. */
export class YIter {
  private cache: unknown[] | undefined;
  constructor(private readonly factory: () => Iterable<unknown>) {}

  *[Symbol.iterator](): Iterator<unknown> {
    if (this.cache) {
      yield* this.cache;
      return;
    }
    for (const v of this.factory()) {
      tick();
      yield v;
    }
  }

  /** Materialises the sequence; infinite ones (sequence(), cycle()) fail instead of hanging. */
  toArray(): unknown[] {
    if (!this.cache) {
      const out: unknown[] = [];
      for (const v of this.factory()) {
        tick();
        out.push(v);
        // Each sequence alone is bounded; many of them (`range(1000).select(range(1000000).toList())`)
        // are charged to the evaluation's build budget as they fill.
        if (out.length % CHARGE_EVERY === 0) spendBuild(CHARGE_EVERY, 'materialising a sequence');
        if (out.length > MAX_COLLECTION) {
          throw new YaqlFailure(
            'CollectionTooLarge',
            `a collection grew beyond ${MAX_COLLECTION} items (an infinite sequence such as sequence() or cycle() needs take() or limit())`,
          );
        }
      }
      spendBuild(out.length % CHARGE_EVERY, 'materialising a sequence');
      this.cache = out;
    }
    return this.cache;
  }
}

/** A dict view (keys(), values(), items()): iterable, not a sequence, not an iterator. */
export class YView extends YIter {
  /** keys() and items() views are Python Sets (len() accepts them); values() is not. */
  constructor(
    factory: () => Iterable<unknown>,
    readonly setLike: boolean,
  ) {
    super(factory);
  }
}

export const MAX_COLLECTION = 1_000_000;
const CHARGE_EVERY = 65_536;

export class YSet {
  readonly items: unknown[];
  constructor(items: Iterable<unknown>) {
    const out: unknown[] = [];
    for (const v of items) {
      tick();
      if (!out.some((o) => pyEquals(o, v))) out.push(v);
    }
    this.items = out;
  }
  has(v: unknown): boolean {
    return this.items.some((o) => pyEquals(o, v));
  }
}

export class YRegex {
  constructor(
    readonly source: string,
    readonly regexp: RegExp,
  ) {}
}

export type YDict = Map<unknown, unknown>;

export function isDict(v: unknown): v is YDict {
  return v instanceof Map;
}
export function isBool(v: unknown): v is boolean {
  return typeof v === 'boolean';
}
/** Python int or float, never bool (YAQL's Number type excludes bool). */
export function isNumber(v: unknown): v is number | YFloat {
  return typeof v === 'number' || v instanceof YFloat;
}
export function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}
/** Python's isinstance(v, int): bools count. */
export function isIntLike(v: unknown): v is number | boolean {
  return isInt(v) || typeof v === 'boolean';
}
export function isFloat(v: unknown): boolean {
  return v instanceof YFloat || (typeof v === 'number' && !Number.isInteger(v));
}
export function numValue(v: unknown): number {
  if (v instanceof YFloat) return v.value;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v as number;
}
export function mkFloat(n: number): number | YFloat {
  return Number.isInteger(n) ? new YFloat(n) : n;
}
/** Python's Sequence minus str: lists only (iterators and sets are not sequences). */
export function isSequence(v: unknown): v is unknown[] {
  return Array.isArray(v);
}
/** Python's Iterable minus str and Mapping. */
export function isIterable(v: unknown): v is unknown[] | YIter | YSet {
  return Array.isArray(v) || v instanceof YIter || v instanceof YSet;
}
export function toArray(v: unknown[] | YIter | YSet): unknown[] {
  if (Array.isArray(v)) return v;
  if (v instanceof YSet) return v.items;
  return v.toArray();
}
export function iterate(v: unknown[] | YIter | YSet): Iterable<unknown> {
  if (v instanceof YSet) return v.items;
  return v;
}

export function dictKey(k: unknown): unknown {
  return k instanceof YFloat ? k.value : k;
}
export function dictGet(d: YDict, k: unknown): { found: boolean; value: unknown } {
  const key = dictKey(k);
  if (d.has(key)) return { found: true, value: d.get(key) };
  // Python: 1 == 1.0 == True hash alike; JSON data only has string keys, so this is rare.
  if (typeof key === 'boolean' && d.has(key ? 1 : 0)) return { found: true, value: d.get(key ? 1 : 0) };
  return { found: false, value: undefined };
}

export function pyEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const an = isNumber(a) || isBool(a);
  const bn = isNumber(b) || isBool(b);
  if (an || bn) return an && bn && numValue(a) === numValue(b);
  if (a === null || b === null || a === undefined || b === undefined) return false;
  if (typeof a === 'string' || typeof b === 'string') return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => pyEquals(v, b[i]));
  }
  if (isDict(a) && isDict(b)) {
    if (a.size !== b.size) return false;
    for (const [k, v] of a) {
      const other = dictGet(b, k);
      if (!other.found || !pyEquals(v, other.value)) return false;
    }
    return true;
  }
  if (a instanceof YSet && b instanceof YSet) {
    return a.items.length === b.items.length && a.items.every((v) => b.has(v));
  }
  if (a instanceof YRegex && b instanceof YRegex)
    return a.source === b.source && a.regexp.flags === b.regexp.flags;
  return false;
}

export function pyTruthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false) return false;
  if (v === true) return true;
  if (isNumber(v)) return numValue(v) !== 0;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (isDict(v)) return v.size > 0;
  if (v instanceof YSet) return v.items.length > 0;
  // Dict views know their length; Python iterator objects are always true, whatever they would yield.
  if (v instanceof YView) return v.toArray().length > 0;
  return true;
}

/** Python's repr() of a float. */
export function pyFloatRepr(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  if (n === 0) return Object.is(n, -0) ? '-0.0' : '0.0';
  const [mant, expStr] = n.toExponential().split('e');
  const exp = Number(expStr);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  const sign = neg ? '-' : '';
  if (exp >= -5 && exp < 16) {
    let s: string;
    if (exp >= 0) {
      const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
      const frac = digits.slice(exp + 1);
      s = `${intPart}.${frac || '0'}`;
    } else {
      s = `0.${'0'.repeat(-exp - 1)}${digits}`;
    }
    // repr switches to exponent form below 1e-4
    if (exp >= -4) return sign + s;
  }
  const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const e = Math.abs(exp) < 10 ? `0${Math.abs(exp)}` : String(Math.abs(exp));
  return `${sign}${m}e${exp < 0 ? '-' : '+'}${e}`;
}

function pyStrRepr(s: string): string {
  spendBuild(s.length + 2, 'str()');
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = '';
  for (const ch of s) {
    const code = ch.codePointAt(0) as number;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return quote + out + quote;
}

/** Python's repr(), used for values inside containers when str() renders them. */
export function pyRepr(v: unknown): string {
  tick();
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return pyStrRepr(v);
  if (v instanceof YFloat) return pyFloatRepr(v.value);
  if (typeof v === 'number') return Number.isInteger(v) ? intStr(v) : pyFloatRepr(v);
  // A list of a million references to one large list prints it a million times: each item is charged.
  if (Array.isArray(v)) {
    spendBuild(v.length * 2, 'str()');
    return `(${v.map(pyRepr).join(', ')}${v.length === 1 ? ',' : ''})`;
  }
  if (isDict(v)) {
    spendBuild(v.size * 4, 'str()');
    return `{${[...v].map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`).join(', ')}}`;
  }
  if (v instanceof YSet) spendBuild(v.items.length * 2, 'str()');
  if (v instanceof YSet)
    return v.items.length ? `frozenset({${v.items.map(pyRepr).join(', ')}})` : 'frozenset()';
  if (v instanceof YRegex) return `re.compile(${pyStrRepr(v.source)})`;
  if (v instanceof YIter) return '<iterator>';
  return String(v);
}

function intStr(n: number): string {
  return Math.abs(n) < 1e21 ? n.toFixed(0) : BigInt(n).toString();
}

/** YAQL's str(): null/true/false in YAQL spelling at the top level, Python str() below. */
export function yaqlStr(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (v === true) return 'true';
  if (v === false) return 'false';
  if (typeof v === 'string') return v;
  return pyRepr(v);
}

export function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof YFloat) return 'float';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'string';
  if (Array.isArray(v)) return 'list';
  if (isDict(v)) return 'dict';
  if (v instanceof YSet) return 'set';
  if (v instanceof YIter) return 'iterator';
  if (v instanceof YRegex) return 'regex';
  if (typeof v === 'function') return 'function';
  return typeof v;
}

/** Plain JS (parsed JSON, caller data) → internal values. */
export function fromPlain(v: unknown): unknown {
  if (v === undefined) return null;
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(fromPlain);
  if (
    v instanceof Map ||
    v instanceof YSet ||
    v instanceof YIter ||
    v instanceof YFloat ||
    v instanceof YRegex
  )
    return v;
  if (v instanceof Set) return new YSet([...v].map(fromPlain));
  if (v instanceof Date) return v.toISOString();
  return new PlainDict(v as Record<string, unknown>);
}

/**
 * The dict of a plain object, whose values are converted as they are read: every YAQL evaluation
 * takes the workflow's whole context as `$` (and `ctx()` returns it), so converting it all up front
 * cost O(context) per expression (`<% ctx().n %>` beside a published list of 1,000 objects: 1.2 ms,
 * against 25 µs with an empty context). Dicts are never mutated while an expression runs, and an
 * evaluation is synchronous, so a value converted later is the one that would have been converted
 * at once. Anything that walks the dict (entries, values, forEach, iteration) converts the rest first.
 */
class PlainDict extends Map<unknown, unknown> {
  /** Keys whose value is still as the caller gave it. */
  private unconverted: Set<unknown>;

  constructor(source: Record<string, unknown>) {
    super();
    const keys = Object.keys(source);
    for (const k of keys) super.set(k, source[k]);
    this.unconverted = new Set(keys);
  }

  override get(key: unknown): unknown {
    const v = super.get(key);
    if (!this.unconverted.delete(key)) return v;
    const converted = fromPlain(v);
    super.set(key, converted);
    return converted;
  }

  override set(key: unknown, value: unknown): this {
    this.unconverted?.delete(key);
    return super.set(key, value);
  }

  private convertAll(): void {
    if (this.unconverted.size === 0) return;
    for (const k of [...this.unconverted]) this.get(k);
  }

  override entries(): MapIterator<[unknown, unknown]> {
    this.convertAll();
    return super.entries();
  }

  override values(): MapIterator<unknown> {
    this.convertAll();
    return super.values();
  }

  override forEach(
    fn: (value: unknown, key: unknown, map: Map<unknown, unknown>) => void,
    that?: unknown,
  ): void {
    this.convertAll();
    super.forEach(fn, that);
  }

  override [Symbol.iterator](): MapIterator<[unknown, unknown]> {
    return this.entries();
  }
}

/**
 * `out[key] = value` as an own property whatever the key: assigned, a `__proto__` key (a YAQL
 * dict's, or a JSON key of an action's result read through it) set the object's prototype instead,
 * so the key was lost from the result and its value's fields read as the object's own (by Jinja,
 * by the code that takes the result) without being in it.
 */
export function setOwn(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}

function plainKey(k: unknown): string {
  if (typeof k === 'string') return k;
  // json.dumps spelling for non-string keys
  if (k === null || k === undefined) return 'null';
  if (k === true) return 'true';
  if (k === false) return 'false';
  if (k instanceof YFloat) return pyFloatRepr(k.value);
  if (typeof k === 'number') return Number.isInteger(k) ? intStr(k) : pyFloatRepr(k);
  return yaqlStr(k);
}

/**
 * Internal values → plain JS: arrays, objects, numbers, strings, booleans, null.
 *
 * Values inside an evaluation are shared, not copied: `[$.list] * 1000000` holds a million
 * references to one list, and `range(1000).select('x' * 60000000)` a thousand to one string. The
 * plain copy (and JSON.stringify of it, when the result is stored) would expand them, so every
 * list and dict entry is charged to the build budget, and so is every string met again (the first
 * time a string is met it costs nothing: it is data already held, such as a large stdout).
 */
export function toPlain(v: unknown): unknown {
  return plainOf(v, new Set());
}

/** Strings shorter than this are charged every time (cheaper than remembering them). */
const REMEMBERED_STRING = 16;

function plainOf(v: unknown, seen: Set<string>): unknown {
  tick();
  if (v === undefined) return null;
  if (v instanceof YFloat) return v.value;
  if (typeof v === 'string') {
    if (v.length < REMEMBERED_STRING) spendBuild(v.length, 'the result');
    else if (seen.has(v)) spendBuild(v.length, 'the result (a string repeated)');
    else seen.add(v);
    return v;
  }
  if (v === null || typeof v !== 'object') return v;
  const list = Array.isArray(v) ? v : v instanceof YIter ? v.toArray() : v instanceof YSet ? v.items : null;
  if (list) {
    spendBuild(list.length, 'the result');
    return list.map((x) => plainOf(x, seen));
  }
  if (v instanceof YRegex) return v.source;
  if (isDict(v)) {
    spendBuild(v.size, 'the result');
    const out: Record<string, unknown> = {};
    for (const [k, x] of v) setOwn(out, plainKey(k), plainOf(x, seen));
    return out;
  }
  return v;
}
