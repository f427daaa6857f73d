import { YaqlFailure } from './errors.js';
import { type Arg, type Builtin, type Call, noMatch, YContext } from './evaluator.js';
import {
  guardInput,
  pyRegexMatches,
  pyRegexTest,
  replaceMatches,
  spendBuild,
  spendReplace,
} from '../jinja/index.js';
import { compilePythonRegex, expandPythonReplacement, pythonSplit, pythonStrip } from './pyhelpers.js';
import {
  dictGet,
  dictKey,
  isBool,
  isDict,
  isFloat,
  isInt,
  isIntLike,
  isIterable,
  isNumber,
  isSequence,
  MAX_COLLECTION,
  iterate,
  mkFloat,
  numValue,
  pyEquals,
  pyTruthy,
  tick,
  toArray,
  typeName,
  yaqlStr,
  YDict,
  YFloat,
  YIter,
  YRegex,
  YSet,
  YView,
} from './values.js';

/*
 * The YAQL 3 standard library as orquesta's engine registers it (yaql.create_context() defaults:
 * no legacy mode, no delegates). Method/function flags follow yaql's specs: e.g. `keys` is a
 * method only (`$.keys()`, not `keys($)`), `len` is both.
 */

type Iter = unknown[] | YIter | YSet;
const B = new Map<string, Builtin>();

function def(name: string, kind: 'M' | 'F' | 'MF', fn: (c: Call) => unknown): void {
  const prev = B.get(name);
  const method = kind.includes('M');
  const func = kind.includes('F');
  if (!prev) {
    B.set(name, { method, func, fn });
    return;
  }
  // Overloads registered under one name: try the newest, fall back to the earlier one when its
  // arguments do not match. Method-only and function-only overloads stay apart.
  B.set(name, {
    method: prev.method || method,
    func: prev.func || func,
    fn: (c) => {
      if (c.method ? method : func) {
        try {
          return fn(c);
        } catch (e) {
          if (!(e instanceof NoOverload)) throw e;
        }
      }
      if (c.method ? prev.method : prev.func) return prev.fn(c);
      return noMatch(c);
    },
  });
}

/** Thrown by an overload whose argument types do not fit, so the next overload can try. */
class NoOverload extends YaqlFailure {}
function skip(c: Call): never {
  return noMatch(c, NoOverload);
}

// ---- argument helpers -------------------------------------------------------------------------

function argc(c: Call, min: number, max: number): void {
  if (c.args.length < min || c.args.length > max) skip(c);
}
function opt(c: Call, i: number, name?: string): Arg | undefined {
  return c.args[i] ?? (name ? c.named.get(name) : undefined);
}
function val(c: Call, i: number, name?: string): unknown {
  const a = opt(c, i, name);
  if (!a) skip(c);
  return a.value();
}
function optVal(c: Call, i: number, name: string | undefined, dflt: unknown): unknown {
  const a = opt(c, i, name);
  return a ? a.value() : dflt;
}
function str(c: Call, i: number, name?: string): string {
  const v = val(c, i, name);
  if (typeof v !== 'string') skip(c);
  return v;
}
function int(c: Call, i: number, name: string | undefined, dflt?: number): number {
  const a = opt(c, i, name);
  if (!a) {
    if (dflt === undefined) skip(c);
    return dflt;
  }
  const v = a.value();
  if (!isIntLike(v)) skip(c);
  return numValue(v);
}
function iter(c: Call, i: number): Iter {
  const v = val(c, i);
  if (!isIterable(v)) skip(c);
  return v;
}
function dict(c: Call, i: number): YDict {
  const v = val(c, i);
  if (!isDict(v)) skip(c);
  return v;
}
function lam(c: Call, i: number, name?: string): ((...xs: unknown[]) => unknown) | undefined {
  return opt(c, i, name)?.lambda();
}
function fail(kind: string, message: string): never {
  throw new YaqlFailure(kind, message);
}

function lazy(src: () => Iterable<unknown>): YIter {
  return new YIter(src);
}
function* chain(...its: Iterable<unknown>[]): Iterable<unknown> {
  for (const it of its) yield* it;
}

// ---- comparison used by operators, min/max, orderBy --------------------------------------------

type Cmp = '<' | '>' | '<=' | '>=';
function compare(op: Cmp, a: unknown, b: unknown): boolean | undefined {
  if (a === null || b === null) {
    if (a === null && b === null) return op === '<=' || op === '>=';
    if (b === null) return op === '>' || op === '>=';
    return op === '<' || op === '<=';
  }
  let x: number | string;
  let y: number | string;
  if (isNumber(a) && isNumber(b)) {
    x = numValue(a);
    y = numValue(b);
  } else if (typeof a === 'string' && typeof b === 'string') {
    x = a;
    y = b;
    // Python compares code points; JS compares UTF-16 units: only differs beyond the BMP.
  } else if (a instanceof YSet && b instanceof YSet) {
    const sub = a.items.every((v) => b.has(v));
    const sup = b.items.every((v) => a.has(v));
    if (op === '<=') return sub;
    if (op === '>=') return sup;
    if (op === '<') return sub && a.items.length < b.items.length;
    return sup && a.items.length > b.items.length;
  } else {
    return undefined;
  }
  switch (op) {
    case '<':
      return x < y;
    case '>':
      return x > y;
    case '<=':
      return x <= y;
    case '>=':
      return x >= y;
  }
}
function cmpOrFail(op: Cmp, a: unknown, b: unknown): boolean {
  const r = compare(op, a, b);
  if (r === undefined)
    fail('NoMatchingFunctionException', `cannot compare ${typeName(a)} ${op} ${typeName(b)}`);
  return r;
}

for (const op of ['<', '>', '<=', '>='] as const) {
  def(`#operator_${op}`, 'F', (c) => {
    const r = compare(op, val(c, 0), val(c, 1));
    if (r === undefined) skip(c);
    return r;
  });
}
def('#operator_=', 'F', (c) => pyEquals(val(c, 0), val(c, 1)));
def('#operator_!=', 'F', (c) => !pyEquals(val(c, 0), val(c, 1)));
def('#operator_and', 'F', (c) => {
  const l = val(c, 0);
  return pyTruthy(l) ? val(c, 1) : l;
});
def('#operator_or', 'F', (c) => {
  const l = val(c, 0);
  return pyTruthy(l) ? l : val(c, 1);
});
def('#unary_operator_not', 'F', (c) => !pyTruthy(val(c, 0)));

// ---- arithmetic ---------------------------------------------------------------------------------

function arith(a: unknown, b: unknown, op: (x: number, y: number) => number): number | YFloat {
  const r = op(numValue(a), numValue(b));
  return isFloat(a) || isFloat(b) ? mkFloat(r) : r;
}
function pyMod(x: number, y: number): number {
  if (y === 0) fail('ZeroDivisionError', 'modulo by zero');
  const r = x % y;
  return r !== 0 && r < 0 !== y < 0 ? r + y : r;
}

def('#operator_+', 'F', (c) => {
  const a = val(c, 0);
  const b = val(c, 1);
  if (isNumber(a) && isNumber(b)) return arith(a, b, (x, y) => x + y);
  if (typeof a === 'string' && typeof b === 'string') {
    // V8 joins strings without copying them, so a string can double cheaply (`aggregate($1 + $1, 'x')`)
    // until something copies it whole: it may grow to the budget, not past it.
    const joined = a + b;
    guardInput(joined, 'the + operator');
    return joined;
  }
  if (isDict(a) && isDict(b)) {
    spendBuild(a.size + b.size, 'the + operator');
    return new Map([...a, ...b]);
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    spendBuild(a.length + b.length, 'the + operator');
    return [...a, ...b];
  }
  if (a instanceof YSet && b instanceof YSet) {
    spendBuild(a.items.length + b.items.length, 'the + operator');
    return new YSet([...a.items, ...b.items]);
  }
  if (isIterable(a) && isIterable(b)) return lazy(() => chain(iterate(a), iterate(b)));
  return skip(c);
});
def('#operator_-', 'F', (c) => {
  const a = val(c, 0);
  const b = val(c, 1);
  if (isNumber(a) && isNumber(b)) return arith(a, b, (x, y) => x - y);
  if (a instanceof YSet && b instanceof YSet) return new YSet(a.items.filter((v) => !b.has(v)));
  return skip(c);
});
def('#operator_*', 'F', (c) => {
  const a = val(c, 0);
  const b = val(c, 1);
  if (isNumber(a) && isNumber(b)) return arith(a, b, (x, y) => x * y);
  const rep = (x: unknown, n: unknown): unknown => {
    const k = Math.max(0, numValue(n));
    // A workflow's expression must not take the process's memory with it: bound what one repetition makes.
    const size = (typeof x === 'string' ? x.length : (x as unknown[]).length) * k;
    if (size > MAX_COLLECTION * (typeof x === 'string' ? 64 : 1))
      fail(
        'MemoryError',
        `repeating ${typeof x === 'string' ? 'a string' : 'a sequence'} ${k} times would make ${size} ${typeof x === 'string' ? 'characters' : 'items'}`,
      );
    spendBuild(size, `repeating ${typeof x === 'string' ? 'a string' : 'a sequence'} ${k} times`);
    if (typeof x === 'string') return x.repeat(k);
    const out: unknown[] = [];
    for (let i = 0; i < k; i++) out.push(...(x as unknown[]));
    return out;
  };
  if ((typeof a === 'string' || isSequence(a)) && isIntLike(b)) return rep(a, b);
  if (isIntLike(a) && (typeof b === 'string' || isSequence(b))) return rep(b, a);
  return skip(c);
});
def('#operator_/', 'F', (c) => {
  const a = val(c, 0);
  const b = val(c, 1);
  if (!isNumber(a) || !isNumber(b)) skip(c);
  if (numValue(b) === 0) fail('ZeroDivisionError', 'division by zero');
  if (isInt(a) && isInt(b)) return Math.floor(a / b);
  return mkFloat(numValue(a) / numValue(b));
});
def('#operator_mod', 'F', (c) => {
  const a = val(c, 0);
  const b = val(c, 1);
  if (!isNumber(a) || !isNumber(b)) skip(c);
  return arith(a, b, pyMod);
});
def('#unary_operator_-', 'F', (c) => {
  const a = val(c, 0);
  if (!isNumber(a)) skip(c);
  return a instanceof YFloat ? new YFloat(-a.value) : -a;
});
def('#unary_operator_+', 'F', (c) => {
  const a = val(c, 0);
  if (!isNumber(a)) skip(c);
  return a;
});
def('#operator_in', 'F', (c) => {
  const v = val(c, 0);
  const coll = val(c, 1);
  if (typeof v === 'string' && typeof coll === 'string') return coll.includes(v);
  if (!isIterable(coll)) skip(c);
  for (const x of iterate(coll)) if (pyEquals(x, v)) return true;
  return false;
});
def('#operator_->', 'F', (c) => {
  const left = val(c, 0);
  if (!(left instanceof YContext)) skip(c);
  return c.args[1].inScope(left.scope);
});

// ---- literals -----------------------------------------------------------------------------------

def('#list', 'F', (c) => {
  if (c.rules.length) skip(c);
  return c.args.map((a) => a.value());
});
def('#map', 'F', (c) => {
  if (c.args.length) skip(c);
  return new Map(c.rules.map((r) => [dictKey(r.key.value()), r.value.value()]));
});

// ---- numbers and conversions --------------------------------------------------------------------

def('str', 'F', (c) => {
  argc(c, 1, 1);
  return yaqlStr(val(c, 0));
});
def('int', 'F', (c) => {
  argc(c, 1, 1);
  const v = val(c, 0);
  if (v === null) return 0;
  if (isBool(v)) return v ? 1 : 0;
  if (isNumber(v)) return Math.trunc(numValue(v));
  if (typeof v === 'string') {
    const t = v.trim().replace(/_/g, '');
    if (/^[+-]?\d+$/.test(t)) return Number(t);
    return fail('ValueError', `invalid literal for int() with base 10: '${v}'`);
  }
  return fail('TypeError', `int() argument must be a string or a number, not '${typeName(v)}'`);
});
def('float', 'F', (c) => {
  argc(c, 1, 1);
  const v = val(c, 0);
  if (v === null) return new YFloat(0);
  if (isBool(v) || isNumber(v)) return mkFloat(numValue(v));
  if (typeof v === 'string') {
    const t = v.trim().toLowerCase();
    if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(t)) return mkFloat(Number(t));
    if (/^[+-]?(inf|infinity)$/.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
    return fail('ValueError', `could not convert string to float: '${v}'`);
  }
  return fail('TypeError', `float() argument must be a string or a number, not '${typeName(v)}'`);
});
def('bool', 'F', (c) => {
  argc(c, 1, 1);
  return pyTruthy(val(c, 0));
});
def('abs', 'F', (c) => {
  argc(c, 1, 1);
  const v = val(c, 0);
  if (!isNumber(v)) skip(c);
  return v instanceof YFloat ? new YFloat(Math.abs(v.value)) : Math.abs(v);
});
def('sign', 'F', (c) => {
  argc(c, 1, 1);
  const v = val(c, 0);
  if (!isNumber(v)) skip(c);
  return Math.sign(numValue(v)) || 0;
});
def('pow', 'F', (c) => {
  argc(c, 2, 3);
  const a = val(c, 0);
  const b = val(c, 1);
  if (!isNumber(a) || !isNumber(b)) skip(c);
  const m = optVal(c, 2, undefined, null);
  if (m !== null) {
    if (!isInt(a) || !isInt(b) || !isInt(m))
      fail('TypeError', 'pow() 3rd argument not allowed unless all arguments are integers');
    return pyMod(Number(BigInt(a) ** BigInt(b) % BigInt(m)), m);
  }
  if (isInt(a) && isInt(b) && b >= 0) return a ** b;
  return mkFloat(numValue(a) ** numValue(b));
});
def('round', 'F', (c) => {
  argc(c, 1, 2);
  const v = val(c, 0);
  if (!isNumber(v)) skip(c);
  const nd = int(c, 1, 'ndigits', 0);
  const out = pyRound(numValue(v), nd);
  return isFloat(v) ? mkFloat(out) : out;
});
/** Python's round(): correctly rounded on the exact binary value, ties to even. */
function pyRound(n: number, nd: number): number {
  if (!Number.isFinite(n)) return n;
  if (nd < 0 || nd > 60) {
    const f = 10 ** nd;
    const x = n * f;
    let r = Math.round(x);
    if (Math.abs(x % 1) === 0.5 && r % 2 !== 0) r -= 1;
    return r / f;
  }
  const exact = Math.abs(n).toFixed(Math.min(100, nd + 40));
  const cut = exact.indexOf('.') + 1 + nd;
  const rest = exact.slice(cut);
  if (/^50*$/.test(rest)) {
    // An exact tie: keep the even neighbour.
    const kept = exact.slice(0, nd === 0 ? cut - 1 : cut);
    const last = Number(kept.replace('.', '').slice(-1));
    const down = Number(kept);
    const up = down + 10 ** -nd;
    const r = last % 2 === 0 ? down : Number(up.toFixed(nd));
    return n < 0 ? -r : r;
  }
  return Number(n.toFixed(nd));
}
def('max', 'F', (c) => {
  argc(c, 2, 2);
  const a = val(c, 0);
  const b = val(c, 1);
  return cmpOrFail('>', b, a) ? b : a;
});
def('min', 'F', (c) => {
  argc(c, 2, 2);
  const a = val(c, 0);
  const b = val(c, 1);
  return cmpOrFail('>', b, a) ? a : b;
});
def('random', 'F', (c) => {
  if (c.args.length === 0) return Math.random();
  const lo = int(c, 0, 'from');
  const hi = int(c, 1, 'to');
  return lo + Math.floor(Math.random() * (hi - lo + 1));
});
for (const [name, fn] of [
  ['bitwiseAnd', (a: bigint, b: bigint) => a & b],
  ['bitwiseOr', (a: bigint, b: bigint) => a | b],
  ['bitwiseXor', (a: bigint, b: bigint) => a ^ b],
  ['shiftBitsLeft', (a: bigint, b: bigint) => a << b],
  ['shiftBitsRight', (a: bigint, b: bigint) => a >> b],
] as const) {
  def(name, 'F', (c) => {
    argc(c, 2, 2);
    return Number(fn(BigInt(int(c, 0, undefined)), BigInt(int(c, 1, undefined))));
  });
}
def('bitwiseNot', 'F', (c) => ~int(c, 0, undefined));
def('hex', 'F', (c) => {
  const v = val(c, 0);
  if (!isInt(v)) return fail('TypeError', `'${typeName(v)}' object cannot be interpreted as an integer`);
  return (v < 0 ? '-0x' : '0x') + Math.abs(v).toString(16);
});

// ---- type tests ---------------------------------------------------------------------------------

def('isInteger', 'F', (c) => isInt(val(c, 0)));
def('isNumber', 'F', (c) => isNumber(val(c, 0)));
def('isString', 'F', (c) => typeof val(c, 0) === 'string');
def('isBoolean', 'F', (c) => isBool(val(c, 0)));
def('isList', 'F', (c) => isSequence(val(c, 0)));
def('isDict', 'F', (c) => isDict(val(c, 0)));
def('isSet', 'F', (c) => val(c, 0) instanceof YSet);
def('isIterable', 'F', (c) => isIterable(val(c, 0)));
def('isRegex', 'F', (c) => val(c, 0) instanceof YRegex);

// ---- strings ------------------------------------------------------------------------------------

const codePoints = (s: string): string[] => [...s];
/** A string an operation is about to copy whole (data read as it is costs nothing). */
function copied(s: string, what: string): string {
  spendBuild(s.length, what);
  return s;
}

def('len', 'MF', (c) => {
  argc(c, 1, 1);
  const v = val(c, 0);
  if (typeof v === 'string') return codePoints(v).length;
  if (isDict(v)) return v.size;
  if (isIterable(v) && !(v instanceof YView && !v.setLike)) return toArray(v).length;
  return skip(c);
});
def('toUpper', 'M', (c) => copied(str(c, 0), 'toUpper()').toUpperCase());
def('toLower', 'M', (c) => copied(str(c, 0), 'toLower()').toLowerCase());
for (const [name, mode] of [
  ['trim', 'both'],
  ['trimLeft', 'left'],
  ['trimRight', 'right'],
] as const) {
  def(name, 'M', (c) => {
    argc(c, 1, 2);
    const chars = optVal(c, 1, 'chars', null);
    if (chars !== null && typeof chars !== 'string') skip(c);
    return pythonStrip(str(c, 0), chars, mode);
  });
}
def('norm', 'MF', (c) => {
  const s = val(c, 0);
  if (s === null) return null;
  if (typeof s !== 'string') skip(c);
  const chars = optVal(c, 1, 'chars', null);
  const v = pythonStrip(s, chars as string | null, 'both');
  return v === '' ? null : v;
});
def('isEmpty', 'MF', (c) => {
  const s = val(c, 0);
  if (s === null) return true;
  if (typeof s !== 'string') skip(c);
  const trimSpaces = pyTruthy(optVal(c, 1, 'trim', true));
  const chars = optVal(c, 2, 'chars', null);
  return (trimSpaces ? pythonStrip(s, chars as string | null, 'both') : s) === '';
});
def('split', 'M', (c) => {
  argc(c, 1, 3);
  const sep = optVal(c, 1, 'separator', null);
  if (sep !== null && typeof sep !== 'string') skip(c);
  return pythonSplit(str(c, 0), sep, int(c, 2, 'maxSplits', -1), false);
});
def('rightSplit', 'M', (c) => {
  argc(c, 1, 3);
  const sep = optVal(c, 1, 'separator', null);
  if (sep !== null && typeof sep !== 'string') skip(c);
  return pythonSplit(str(c, 0), sep, int(c, 2, 'maxSplits', -1), true);
});
def('replace', 'M', (c) => {
  const s = val(c, 0);
  const what = val(c, 1);
  if (typeof s !== 'string') skip(c);
  if (isDict(what)) {
    const count = int(c, 2, 'count', -1);
    let out = s;
    for (const [k, v] of what) out = replaceCount(out, yaqlStr(k), yaqlStr(v), count);
    return out;
  }
  if (typeof what !== 'string') skip(c);
  argc(c, 3, 4);
  return replaceCount(s, what, str(c, 2), int(c, 3, 'count', -1));
});
function replaceCount(s: string, old: string, repl: string, count: number): string {
  spendReplace(s, old, repl, 'replace()', count < 0 ? Infinity : count);
  if (count < 0) {
    if (old === '') return repl + codePoints(s).join(repl) + repl;
    return s.split(old).join(repl);
  }
  let out = s;
  let from = 0;
  for (let n = 0; n < count; n++) {
    const i = out.indexOf(old, from);
    if (i < 0) break;
    out = out.slice(0, i) + repl + out.slice(i + old.length);
    from = i + repl.length + (old === '' ? 1 : 0);
  }
  return out;
}
def('startsWith', 'M', (c) => {
  const s = str(c, 0);
  if (c.args.length < 2) skip(c);
  return c.args.slice(1).some((_a, i) => s.startsWith(str(c, i + 1)));
});
def('endsWith', 'M', (c) => {
  const s = str(c, 0);
  if (c.args.length < 2) skip(c);
  return c.args.slice(1).some((_a, i) => s.endsWith(str(c, i + 1)));
});
def('substring', 'M', (c) => {
  argc(c, 2, 3);
  const s = codePoints(str(c, 0));
  let start = int(c, 1, 'start');
  let length = int(c, 2, 'length', -1);
  if (length < 0) length = s.length;
  if (start < 0) start += s.length;
  const from = Math.max(0, start);
  return s.slice(from, Math.max(from, start + length)).join('');
});
function pyFind(s: string, sub: string, start: number, end: number | undefined, last: boolean): number {
  const cps = codePoints(s);
  const n = cps.length;
  const norm = (i: number) => (i < 0 ? Math.max(0, i + n) : Math.min(i, n));
  const a = norm(start);
  const b = end === undefined ? n : norm(end);
  if (b < a) return -1;
  const hay = cps.slice(a, b).join('');
  const i = last ? hay.lastIndexOf(sub) : hay.indexOf(sub);
  if (i < 0) return -1;
  return a + codePoints(hay.slice(0, i)).length;
}
/** indexOf/lastIndexOf on a string: (sub, start = 0, length) in code points, as yaql's. */
function findInString(c: Call, recv: string, last: boolean): number {
  argc(c, 2, 4);
  const sub = str(c, 1);
  const start = int(c, 2, 'start', 0);
  if (c.args.length < 4) return pyFind(recv, sub, start, undefined, last);
  const st = start < 0 ? start + codePoints(recv).length : start;
  let len = int(c, 3, 'length');
  if (len < 0) len = codePoints(recv).length - st;
  return pyFind(recv, sub, st, st + len, last);
}
def('indexOf', 'M', (c) => {
  const recv = val(c, 0);
  if (typeof recv === 'string') return findInString(c, recv, false);
  if (!isIterable(recv)) skip(c);
  argc(c, 2, 2);
  const item = val(c, 1);
  return toArray(recv).findIndex((x) => pyEquals(x, item));
});
def('lastIndexOf', 'M', (c) => {
  const recv = val(c, 0);
  if (typeof recv === 'string') return findInString(c, recv, true);
  if (!isIterable(recv)) skip(c);
  const item = val(c, 1);
  const arr = toArray(recv);
  for (let i = arr.length - 1; i >= 0; i--) if (pyEquals(arr[i], item)) return i;
  return -1;
});
def('toCharArray', 'M', (c) => codePoints(str(c, 0)));
def('characters', 'F', (c) => {
  const sets: Record<string, string> = {
    digits: '0123456789',
    hexdigits: '0123456789abcdefABCDEF',
    octdigits: '01234567',
    ascii_lowercase: 'abcdefghijklmnopqrstuvwxyz',
    ascii_uppercase: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
    ascii_letters: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ',
    punctuation: '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~',
    whitespace: ' \t\n\r\x0b\x0c',
  };
  let s = '';
  for (const [k, a] of c.named) {
    const key = k.replace(/([A-Z])/g, '_$1').toLowerCase();
    if (pyTruthy(a.value()) && sets[key]) s += sets[key];
  }
  return [...new Set(s)];
});
def('concat', 'F', (c) => {
  if (c.args.length && c.args.every((a) => typeof a.value() === 'string')) {
    const parts = c.args.map((a) => a.value() as string);
    spendBuild(
      parts.reduce((n, p) => n + p.length, 0),
      'concat()',
    );
    return parts.join('');
  }
  return skip(c);
});
def('join', 'M', (c) => {
  argc(c, 2, 2);
  const a = val(c, 0);
  const b = val(c, 1);
  let seq: Iter;
  let sep: string;
  if (isIterable(a) && typeof b === 'string') [seq, sep] = [a, b];
  else if (typeof a === 'string' && isIterable(b)) [seq, sep] = [b, a];
  else return skip(c);
  const parts = toArray(seq).map(yaqlStr);
  spendBuild(
    parts.reduce((n, p) => n + p.length, Math.max(0, parts.length - 1) * sep.length),
    'join()',
  );
  return parts.join(sep);
});

// ---- regular expressions ------------------------------------------------------------------------

def('regex', 'F', (c) => {
  argc(c, 1, 4);
  const pattern = str(c, 0, 'pattern');
  const flags = {
    ignoreCase: pyTruthy(optVal(c, 1, 'ignoreCase', false)),
    multiLine: pyTruthy(optVal(c, 2, 'multiLine', false)),
    dotAll: pyTruthy(optVal(c, 3, 'dotAll', false)),
  };
  return new YRegex(pattern, compilePythonRegex(pattern, flags));
});
def('escapeRegex', 'F', (c) => str(c, 0).replace(/[^\p{L}\p{N}_]/gu, (ch) => `\\${ch}`));
/**
 * Python's re.search(...) is not None, in linear time: a YAQL test runs on the same entry point as
 * rule criteria and Jinja (pyRegexTest), since the text may be anyone's. MULTILINE, which that
 * entry point lacks, stays on V8 (the service's flag bounds it where it can).
 */
function regexTest(source: string, re: RegExp, s: string): boolean {
  if (re.flags.includes('m')) return re.test(s);
  return pyRegexTest(source, s, { ignoreCase: re.flags.includes('i'), dotAll: re.flags.includes('s') });
}
function regexOperand(c: Call, v: unknown): [string, RegExp] {
  if (v instanceof YRegex) return [v.source, v.regexp];
  if (typeof v === 'string') return [v, compilePythonRegex(v, {})];
  return skip(c);
}
function withGlobal(re: RegExp): RegExp {
  return new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`);
}
def('#operator_=~', 'F', (c) => {
  const s = val(c, 0);
  if (typeof s !== 'string') skip(c);
  return regexTest(...regexOperand(c, val(c, 1)), s);
});
def('#operator_!~', 'F', (c) => {
  const s = val(c, 0);
  if (typeof s !== 'string') skip(c);
  return !regexTest(...regexOperand(c, val(c, 1)), s);
});
/** Orders (regex, string) from either `regex.f(string)` or `string.f(regex)`; strings as patterns only when allowed. */
function regexAndString(c: Call, stringPatternOk: boolean, regexReceiverOnly = false): [YRegex, string] {
  const a = val(c, 0);
  const b = val(c, 1);
  if (a instanceof YRegex && typeof b === 'string') return [a, b];
  if (!regexReceiverOnly && typeof a === 'string' && b instanceof YRegex) return [b, a];
  if (stringPatternOk && typeof a === 'string' && typeof b === 'string')
    return [new YRegex(b, compilePythonRegex(b, {})), a];
  return skip(c);
}
/**
 * re.finditer. The text may be anyone's (a webhook's body), so the matches are found in linear
 * time wherever an engine keeps the pattern's meaning (pyRegexMatches); only what RE2 cannot run
 * (lookarounds, back-references) runs on the compiled RegExp, bounded by the service's V8 flag
 * where it can be.
 */
function matchesOf(re: YRegex, s: string, indices: boolean): Iterable<RegExpExecArray> {
  const flags = re.regexp.flags;
  return pyRegexMatches(
    re.source,
    s,
    { ignoreCase: flags.includes('i'), multiLine: flags.includes('m'), dotAll: flags.includes('s'), indices },
    () => (indices ? withIndices(re.regexp, true) : withGlobal(re.regexp)),
  );
}
def('matches', 'M', (c) => {
  argc(c, 2, 2);
  const [re, s] = regexAndString(c, true, true);
  return regexTest(re.source, re.regexp, s);
});
function publishMatch(m: RegExpExecArray): [string, unknown][] {
  const rec = (value: string | undefined, start: number) =>
    new Map<unknown, unknown>([
      ['value', value ?? null],
      ['start', value === undefined ? -1 : start],
      ['end', value === undefined ? -1 : start + value.length],
    ]);
  const vars: [string, unknown][] = [['$1', rec(m[0], m.index)]];
  const idx = (m as RegExpExecArray & { indices?: [number, number][] }).indices;
  for (let i = 1; i < m.length; i++) vars.push([`$${i + 1}`, rec(m[i], idx?.[i]?.[0] ?? -1)]);
  vars.push(['$', vars[0][1]]);
  return vars;
}
function withIndices(re: RegExp, global: boolean): RegExp {
  let flags = re.flags;
  if (!flags.includes('d')) flags += 'd';
  if (global && !flags.includes('g')) flags += 'g';
  return new RegExp(re.source, flags);
}
def('search', 'M', (c) => {
  argc(c, 2, 3);
  const [re, s] = regexAndString(c, false, true);
  const [m] = matchesOf(re, s, true);
  if (!m) return null;
  const sel = opt(c, 2, 'selector');
  if (!sel) return m[0];
  return sel.inScope(c.scope.child(publishMatch(m)));
});
def('searchAll', 'M', (c) => {
  argc(c, 2, 3);
  const [re, s] = regexAndString(c, false, true);
  const sel = opt(c, 2, 'selector');
  const out: unknown[] = [];
  for (const m of matchesOf(re, s, true)) {
    out.push(sel ? sel.inScope(c.scope.child(publishMatch(m))) : m[0]);
  }
  return lazy(() => out);
});
def('split', 'M', (c) => {
  argc(c, 2, 3);
  const [re, s] = regexAndString(c, false);
  const max = int(c, 2, 'maxSplit', 0);
  const out: unknown[] = [];
  let last = 0;
  let n = 0;
  for (const m of matchesOf(re, s, false)) {
    if (max > 0 && n >= max) break;
    out.push(s.slice(last, m.index));
    for (let i = 1; i < m.length; i++) out.push(m[i] ?? null);
    last = (m.index as number) + m[0].length;
    n++;
  }
  out.push(s.slice(last));
  return out;
});
def('replace', 'M', (c) => {
  const a = val(c, 0);
  const b = val(c, 1);
  if (!(a instanceof YRegex) && !(b instanceof YRegex)) skip(c);
  argc(c, 3, 4);
  const [re, s] = regexAndString(c, false);
  const repl = str(c, 2);
  const count = int(c, 3, 'count', 0);
  let n = 0;
  return replaceMatches(s, matchesOf(re, s, false), (...m: unknown[]) => {
    if (count > 0 && n >= count) return m[0] as string;
    n++;
    const out = expandPythonReplacement(repl, m);
    spendBuild(out.length, 'replace()');
    return out;
  });
});
def('replaceBy', 'M', (c) => {
  argc(c, 3, 4);
  const [re, s] = regexAndString(c, false);
  const sel = opt(c, 2, 'repl');
  if (!sel) return skip(c);
  const count = int(c, 3, 'count', 0);
  let n = 0;
  let out = '';
  let last = 0;
  for (const m of matchesOf(re, s, true)) {
    if (count > 0 && n >= count) break;
    const piece = yaqlStr(sel.inScope(c.scope.child(publishMatch(m))));
    spendBuild(piece.length, 'replaceBy()');
    out += s.slice(last, m.index) + piece;
    last = (m.index as number) + m[0].length;
    n++;
  }
  return out + s.slice(last);
});

// ---- dictionaries -------------------------------------------------------------------------------

def('dict', 'F', (c) => {
  if (c.rules.length && c.args.length === 0)
    return new Map(c.rules.map((r) => [dictKey(r.key.value()), r.value.value()]));
  if (c.args.length === 0) return new Map();
  argc(c, 1, 1);
  const out = new Map<unknown, unknown>();
  for (const pair of toArray(iter(c, 0))) {
    if (!isIterable(pair)) fail('TypeError', `dict() needs pairs, got a ${typeName(pair)}`);
    const kv = toArray(pair);
    if (kv.length < 2) fail('StopIteration', 'dict() needs pairs of (key, value)');
    out.set(dictKey(kv[0]), kv[1]);
  }
  return out;
});
// Python's dict views: iterable, but neither sequences nor iterators (so len() refuses them).
def('keys', 'M', (c) => {
  const d = dict(c, 0);
  return new YView(() => d.keys(), true);
});
def('values', 'M', (c) => {
  const d = dict(c, 0);
  return new YView(() => d.values(), false);
});
def('items', 'M', (c) => {
  const d = dict(c, 0);
  return new YView(() => [...d].map(([k, v]) => [k, v]), true);
});
def('get', 'M', (c) => {
  argc(c, 2, 3);
  const d = dict(c, 0);
  const r = dictGet(d, val(c, 1));
  return r.found ? r.value : optVal(c, 2, 'default', null);
});
def('containsKey', 'M', (c) => dictGet(dict(c, 0), val(c, 1)).found);
def('containsValue', 'M', (c) => {
  const v = val(c, 1);
  return [...dict(c, 0).values()].some((x) => pyEquals(x, v));
});
def('set', 'M', (c) => {
  const d = dict(c, 0);
  const out = new Map(d);
  if (c.rules.length) {
    if (c.args.length !== 1) skip(c);
    for (const r of c.rules) out.set(dictKey(r.key.value()), r.value.value());
    return out;
  }
  if (c.args.length === 2) {
    const repl = val(c, 1);
    if (!isDict(repl)) skip(c);
    for (const [k, v] of repl) out.set(k, v);
    return out;
  }
  argc(c, 3, 3);
  out.set(dictKey(val(c, 1)), val(c, 2));
  return out;
});
def('delete', 'M', (c) => {
  const d = dict(c, 0);
  const out = new Map(d);
  for (const a of c.args.slice(1)) out.delete(dictKey(a.value()));
  return out;
});
def('deleteAll', 'M', (c) => {
  const d = dict(c, 0);
  const out = new Map(d);
  for (const k of toArray(iter(c, 1))) out.delete(dictKey(k));
  return out;
});
def('toDict', 'M', (c) => {
  argc(c, 2, 3);
  const coll = iter(c, 0);
  const key = lam(c, 1, 'keySelector') as (x: unknown) => unknown;
  const value = lam(c, 2, 'valueSelector');
  const out = new Map<unknown, unknown>();
  for (const x of iterate(coll)) out.set(dictKey(key(x)), value ? value(x) : x);
  return out;
});
function mergeDicts(
  a: YDict,
  b: YDict,
  listMerge: (x: unknown[], y: unknown[]) => unknown,
  itemMerge: (x: unknown, y: unknown) => unknown,
  maxLevels: number,
): YDict {
  const out = new Map<unknown, unknown>();
  for (const [k, v1] of a) {
    out.set(k, v1);
    if (!b.has(k)) continue;
    const v2 = b.get(k);
    if (maxLevels !== 1 && isDict(v2)) {
      if (!isDict(v1)) fail('TypeError', `cannot merge ${typeName(v1)} with ${typeName(v2)}`);
      out.set(k, mergeDicts(v1, v2, listMerge, itemMerge, maxLevels === 0 ? 0 : maxLevels - 1));
    } else if (maxLevels !== 1 && isSequence(v2)) {
      if (!isSequence(v1)) fail('TypeError', `cannot merge ${typeName(v1)} with ${typeName(v2)}`);
      out.set(k, listMerge(v1, v2));
    } else {
      out.set(k, itemMerge(v1, v2));
    }
  }
  for (const [k, v] of b) if (!out.has(k)) out.set(k, v);
  return out;
}
def('mergeWith', 'M', (c) => {
  const a = dict(c, 0);
  const b = dict(c, 1);
  const lm = lam(c, 2, 'listMerger');
  const im = lam(c, 3, 'itemMerger');
  const maxLevels = int(c, 4, 'maxLevels', 0);
  return mergeDicts(
    a,
    b,
    lm ? (x, y) => lm(x, y) : (x, y) => distinctOf([...x, ...y]),
    im ? (x, y) => im(x, y) : (_x, y) => y,
    maxLevels,
  );
});

// ---- lists, sets and queries --------------------------------------------------------------------

function flattenIterArgs(args: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const a of args) {
    if (a instanceof YIter) out.push(...flattenIterArgs(a.toArray()));
    else out.push(a);
  }
  return out;
}
def('list', 'F', (c) => {
  if (c.rules.length) skip(c);
  return flattenIterArgs(c.args.map((a) => a.value()));
});
def('set', 'F', (c) => {
  if (c.rules.length) skip(c);
  return new YSet(flattenIterArgs(c.args.map((a) => a.value())));
});
def('toList', 'M', (c) => [...toArray(iter(c, 0))]);
def('toSet', 'M', (c) => new YSet(toArray(iter(c, 0))));
def('flatten', 'M', (c) => {
  const rec = (xs: Iterable<unknown>): unknown[] => {
    const out: unknown[] = [];
    for (const x of xs) {
      if (isIterable(x)) out.push(...rec(iterate(x)));
      else out.push(x);
    }
    return out;
  };
  const src = iter(c, 0);
  return lazy(() => rec(iterate(src)));
});
function setOp(name: string, op: (a: YSet, b: YSet) => YSet): void {
  def(name, 'M', (c) => {
    argc(c, 2, 2);
    const a = val(c, 0);
    const b = val(c, 1);
    if (!(a instanceof YSet) || !(b instanceof YSet)) skip(c);
    return op(a, b);
  });
}
setOp('union', (a, b) => new YSet([...a.items, ...b.items]));
setOp('intersect', (a, b) => new YSet(a.items.filter((x) => b.has(x))));
setOp('difference', (a, b) => new YSet(a.items.filter((x) => !b.has(x))));
setOp(
  'symmetricDifference',
  (a, b) => new YSet([...a.items.filter((x) => !b.has(x)), ...b.items.filter((x) => !a.has(x))]),
);
def('add', 'M', (c) => {
  const s = val(c, 0);
  if (!(s instanceof YSet)) skip(c);
  return new YSet([...s.items, ...c.args.slice(1).map((a) => a.value())]);
});
def('remove', 'M', (c) => {
  const s = val(c, 0);
  if (!(s instanceof YSet)) skip(c);
  const drop = c.args.slice(1).map((a) => a.value());
  return new YSet(s.items.filter((x) => !drop.some((d) => pyEquals(d, x))));
});
def('contains', 'M', (c) => {
  argc(c, 2, 2);
  const coll = iter(c, 0);
  const v = val(c, 1);
  return toArray(coll).some((x) => pyEquals(x, v));
});

function query(name: string, kind: 'M' | 'MF', fn: (coll: Iter, c: Call) => unknown): void {
  def(name, kind, (c) => fn(iter(c, 0), c));
}
for (const name of ['select', 'map']) {
  query(name, 'M', (coll, c) => {
    argc(c, 2, 2);
    const f = lam(c, 1, 'selector') as (x: unknown) => unknown;
    return lazy(() => toArray(coll).map((x) => f(x)));
  });
}
for (const name of ['where', 'filter']) {
  query(name, 'M', (coll, c) => {
    argc(c, 2, 2);
    const f = lam(c, 1, 'predicate') as (x: unknown) => unknown;
    return lazy(function* () {
      for (const x of iterate(coll)) if (pyTruthy(f(x))) yield x;
    });
  });
}
query('selectMany', 'M', (coll, c) => {
  const f = lam(c, 1, 'selector') as (x: unknown) => unknown;
  return lazy(function* () {
    for (const x of iterate(coll)) {
      const inner = f(x);
      if (isIterable(inner)) yield* iterate(inner);
      else yield inner;
    }
  });
});
for (const name of ['take', 'limit']) {
  query(name, 'M', (coll, c) => {
    const n = nonNegative(int(c, 1, 'count'));
    return lazy(function* () {
      if (n <= 0) return;
      let i = 0;
      for (const x of iterate(coll)) {
        yield x;
        if (++i >= n) return;
      }
    });
  });
}
/** itertools.islice refuses negative bounds. */
function nonNegative(n: number): number {
  if (n < 0) fail('ValueError', `a count must be zero or more, got ${n}`);
  return n;
}
query('skip', 'M', (coll, c) => {
  const n = nonNegative(int(c, 1, 'count'));
  return lazy(function* () {
    let i = 0;
    for (const x of iterate(coll)) if (i++ >= n) yield x;
  });
});
query('takeWhile', 'M', (coll, c) => {
  const f = lam(c, 1, 'predicate') as (x: unknown) => unknown;
  return lazy(function* () {
    for (const x of iterate(coll)) {
      if (!pyTruthy(f(x))) return;
      yield x;
    }
  });
});
query('skipWhile', 'M', (coll, c) => {
  const f = lam(c, 1, 'predicate') as (x: unknown) => unknown;
  return lazy(function* () {
    let skipping = true;
    for (const x of iterate(coll)) {
      if (skipping && pyTruthy(f(x))) continue;
      skipping = false;
      yield x;
    }
  });
});
query('append', 'MF', (coll, c) => {
  const more = c.args.slice(1).map((a) => a.value());
  return lazy(() => chain(iterate(coll), more));
});
def('concat', 'MF', (c) => {
  const colls = c.args.map((a) => a.value());
  if (!colls.every(isIterable)) skip(c);
  return lazy(() => chain(...(colls as Iter[]).map(iterate)));
});
function distinctOf(xs: Iterable<unknown>, key?: (x: unknown) => unknown): unknown[] {
  const seen: unknown[] = [];
  const out: unknown[] = [];
  for (const x of xs) {
    const k = key ? key(x) : x;
    if (seen.some((s) => pyEquals(s, k))) continue;
    seen.push(k);
    out.push(x);
  }
  return out;
}
query('distinct', 'MF', (coll, c) => {
  const key = lam(c, 1, 'keySelector');
  return lazy(() => distinctOf(iterate(coll), key));
});
query('enumerate', 'MF', (coll, c) => {
  const start = int(c, 1, 'start', 0);
  return lazy(() => toArray(coll).map((x, i) => [i + start, x]));
});
query('any', 'MF', (coll, c) => {
  const f = lam(c, 1, 'predicate');
  for (const x of iterate(coll)) if (f ? pyTruthy(f(x)) : true) return true;
  return false;
});
query('all', 'MF', (coll, c) => {
  const f = lam(c, 1, 'predicate');
  for (const x of iterate(coll)) if (!pyTruthy(f ? f(x) : x)) return false;
  return true;
});
query('count', 'M', (coll, c) => {
  argc(c, 1, 1);
  return toArray(coll).length;
});
query('memorize', 'M', (coll) => coll);
function aggregate(
  coll: Iter,
  f: (a: unknown, b: unknown) => unknown,
  seed: Arg | undefined,
  name: string,
): unknown {
  const xs = toArray(coll);
  let acc: unknown;
  let start = 0;
  if (seed) acc = seed.value();
  else {
    if (xs.length === 0) fail('TypeError', `${name}() of an empty sequence with no initial value`);
    acc = xs[0];
    start = 1;
  }
  for (let i = start; i < xs.length; i++) acc = f(acc, xs[i]);
  return acc;
}
function plus(a: unknown, b: unknown): unknown {
  if (isNumber(a) && isNumber(b)) return arith(a, b, (x, y) => x + y);
  if (typeof a === 'string' && typeof b === 'string') return a + b;
  if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
  if (isDict(a) && isDict(b)) return new Map([...a, ...b]);
  if (isIterable(a) && isIterable(b)) return [...toArray(a), ...toArray(b)];
  return fail('NoMatchingFunctionException', `cannot add ${typeName(a)} and ${typeName(b)}`);
}
query('sum', 'M', (coll, c) => aggregate(coll, plus, opt(c, 1, 'initial'), 'sum'));
query('max', 'M', (coll, c) =>
  aggregate(coll, (a, b) => (cmpOrFail('>', b, a) ? b : a), opt(c, 1, 'initial'), 'max'),
);
query('min', 'M', (coll, c) =>
  aggregate(coll, (a, b) => (cmpOrFail('>', b, a) ? a : b), opt(c, 1, 'initial'), 'min'),
);
for (const name of ['aggregate', 'reduce']) {
  query(name, 'M', (coll, c) => {
    const f = lam(c, 1, 'selector') as (a: unknown, b: unknown) => unknown;
    return aggregate(coll, (a, b) => f(a, b), opt(c, 2, 'seed'), name);
  });
}
query('accumulate', 'M', (coll, c) => {
  const f = lam(c, 1, 'selector') as (a: unknown, b: unknown) => unknown;
  const xs = toArray(coll);
  const seed = opt(c, 2, 'seed');
  let acc: unknown;
  let i = 0;
  if (seed) acc = seed.value();
  else {
    if (xs.length === 0) fail('TypeError', 'accumulate() of empty sequence with no initial value');
    acc = xs[i++];
  }
  const out = [acc];
  for (; i < xs.length; i++) out.push((acc = f(acc, xs[i])));
  return lazy(() => out);
});
function emptyFailure(): never {
  return fail('StopIteration', 'the collection is empty');
}
query('first', 'M', (coll, c) => {
  for (const x of iterate(coll)) return x;
  const d = opt(c, 1, 'default');
  return d ? d.value() : emptyFailure();
});
query('last', 'M', (coll, c) => {
  const xs = toArray(coll);
  if (xs.length) return xs[xs.length - 1];
  const d = opt(c, 1, 'default');
  return d ? d.value() : emptyFailure();
});
query('single', 'M', (coll) => {
  const xs = toArray(coll);
  if (xs.length === 0) emptyFailure();
  if (xs.length > 1) fail('StopIteration', 'Collection contains more than one item');
  return xs[0];
});
query('defaultIfEmpty', 'M', (coll, c) => {
  const xs = toArray(coll);
  if (xs.length) return lazy(() => xs);
  const d = val(c, 1, 'default');
  if (!isIterable(d)) skip(c);
  return d;
});
query('reverse', 'M', (coll) => {
  const xs = [...toArray(coll)].reverse();
  return lazy(() => xs);
});
query('indexWhere', 'M', (coll, c) => {
  const f = lam(c, 1, 'predicate') as (x: unknown) => unknown;
  return toArray(coll).findIndex((x) => pyTruthy(f(x)));
});
query('lastIndexWhere', 'M', (coll, c) => {
  const f = lam(c, 1, 'predicate') as (x: unknown) => unknown;
  const xs = toArray(coll);
  for (let i = xs.length - 1; i >= 0; i--) if (pyTruthy(f(xs[i]))) return i;
  return -1;
});
query('zip', 'M', (coll, c) => {
  const all = [coll, ...c.args.slice(1).map((a) => a.value())];
  if (!all.every(isIterable)) skip(c);
  const arrs = (all as Iter[]).map(toArray);
  const n = Math.min(...arrs.map((a) => a.length));
  return lazy(() => Array.from({ length: n }, (_x, i) => arrs.map((a) => a[i])));
});
query('zipLongest', 'M', (coll, c) => {
  const all = [coll, ...c.args.slice(1).map((a) => a.value())];
  if (!all.every(isIterable)) skip(c);
  const arrs = (all as Iter[]).map(toArray);
  const dflt = c.named.get('default')?.value() ?? null;
  const n = Math.max(...arrs.map((a) => a.length));
  return lazy(() => Array.from({ length: n }, (_x, i) => arrs.map((a) => (i < a.length ? a[i] : dflt))));
});
query('slice', 'M', (coll, c) => {
  const n = int(c, 1, 'length');
  const xs = toArray(coll);
  const out: unknown[][] = [];
  if (n <= 0) fail('ValueError', 'slice length must be positive');
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return lazy(() => out);
});
query('splitAt', 'M', (coll, c) => {
  const xs = toArray(coll);
  let n = int(c, 1, 'index');
  if (n < 0) n = Math.max(0, xs.length + n);
  return [xs.slice(0, n), xs.slice(n)];
});
query('splitWhere', 'M', (coll, c) => {
  const f = lam(c, 1, 'predicate') as (x: unknown) => unknown;
  const xs = toArray(coll);
  const out: unknown[][] = [];
  let start = 0;
  let end = 0;
  for (; end < xs.length; end++) {
    if (pyTruthy(f(xs[end]))) {
      out.push(xs.slice(start, end));
      start = end + 1;
    }
  }
  if (start !== end) out.push(xs.slice(start, end));
  return lazy(() => out);
});
query('sliceWhere', 'M', (coll, c) => {
  const f = lam(c, 1, 'predicate') as (x: unknown) => unknown;
  const xs = toArray(coll);
  const out: unknown[][] = [];
  let start = 0;
  let prev: unknown = undefined;
  let has = false;
  for (let end = 0; end < xs.length; end++) {
    const p = f(xs[end]);
    if (has && !pyEquals(p, prev)) {
      out.push(xs.slice(start, end));
      start = end;
    }
    prev = p;
    has = true;
  }
  if (start < xs.length) out.push(xs.slice(start));
  return lazy(() => out);
});
query('insert', 'M', (coll, c) => {
  argc(c, 3, 3);
  const pos = int(c, 1, 'position');
  const v = val(c, 2);
  const xs = [...toArray(coll)];
  if (Array.isArray(coll)) {
    // list.insert semantics
    const p = pos < 0 ? Math.max(0, xs.length + pos) : Math.min(pos, xs.length);
    xs.splice(p, 0, v);
    return xs;
  }
  if (coll instanceof YSet) skip(c);
  const out: unknown[] = [];
  xs.forEach((x, i) => {
    if (i === pos) out.push(v);
    out.push(x);
  });
  if (pos > xs.length - 1) out.push(v);
  return lazy(() => out);
});
query('insertMany', 'M', (coll, c) => {
  const pos = int(c, 1, 'position');
  const values = toArray(iter(c, 2));
  const xs = toArray(coll);
  const out: unknown[] = [];
  if (pos < 0) out.push(...values);
  xs.forEach((x, i) => {
    if (i === pos) out.push(...values);
    out.push(x);
  });
  if (pos > xs.length - 1) out.push(...values);
  return lazy(() => out);
});
def('delete', 'M', (c) => {
  const coll = iter(c, 0);
  const pos = int(c, 1, 'position');
  const count = int(c, 2, 'count', 1);
  const xs = toArray(coll).filter((_x, i) => (count >= 0 ? !(pos <= i && i < pos + count) : !(i >= pos)));
  return lazy(() => xs);
});
def('replace', 'M', (c) => {
  const coll = val(c, 0);
  if (!isIterable(coll)) skip(c);
  const pos = int(c, 1, 'position');
  const v = val(c, 2);
  const count = int(c, 3, 'count', 1);
  const out: unknown[] = [];
  let done = false;
  toArray(coll).forEach((x, i) => {
    if ((count >= 0 && pos <= i && i < pos + count) || (count < 0 && i >= pos)) {
      if (!done) out.push(v);
      done = true;
    } else out.push(x);
  });
  return lazy(() => out);
});
query('replaceMany', 'M', (coll, c) => {
  const pos = int(c, 1, 'position');
  const values = toArray(iter(c, 2));
  const count = int(c, 3, 'count', 1);
  const out: unknown[] = [];
  let done = false;
  toArray(coll).forEach((x, i) => {
    if ((count >= 0 && pos <= i && i < pos + count) || (count < 0 && i >= pos)) {
      if (!done) out.push(...values);
      done = true;
    } else out.push(x);
  });
  return lazy(() => out);
});

// orderBy / thenBy keep their sort keys so a following thenBy can refine the order.
class Ordered extends YIter {
  constructor(
    readonly source: unknown[],
    readonly keys: { f: (x: unknown) => unknown; asc: boolean }[],
  ) {
    super(() => sortBy(source, keys));
  }
}
function sortBy(xs: unknown[], keys: { f: (x: unknown) => unknown; asc: boolean }[]): unknown[] {
  const decorated = xs.map((x) => ({ x, ks: keys.map((k) => k.f(x)) }));
  const sorted = mergeSort(decorated, (a, b) => {
    for (let i = 0; i < keys.length; i++) {
      let r = 0;
      if (cmpOrFail('<', a.ks[i], b.ks[i])) r = -1;
      else if (cmpOrFail('>', a.ks[i], b.ks[i])) r = 1;
      if (r !== 0) return keys[i].asc ? r : -r;
    }
    return 0;
  });
  return sorted.map((d) => d.x);
}
function mergeSort<T>(xs: T[], cmp: (a: T, b: T) => number): T[] {
  // Stable, and calls cmp only on pairs (so comparison errors surface as in Python's sort).
  if (xs.length <= 1) return xs;
  const mid = xs.length >> 1;
  const a = mergeSort(xs.slice(0, mid), cmp);
  const b = mergeSort(xs.slice(mid), cmp);
  const out: T[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) out.push(cmp(b[j], a[i]) < 0 ? b[j++] : a[i++]);
  return out.concat(a.slice(i), b.slice(j));
}
for (const [name, asc] of [
  ['orderBy', true],
  ['orderByDescending', false],
] as const) {
  query(
    name,
    'M',
    (coll, c) => new Ordered(toArray(coll), [{ f: lam(c, 1, 'selector') as (x: unknown) => unknown, asc }]),
  );
}
for (const [name, asc] of [
  ['thenBy', true],
  ['thenByDescending', false],
] as const) {
  def(name, 'M', (c) => {
    const o = val(c, 0);
    if (!(o instanceof Ordered)) skip(c);
    return new Ordered(o.source, [...o.keys, { f: lam(c, 1, 'selector') as (x: unknown) => unknown, asc }]);
  });
}
query('groupBy', 'M', (coll, c) => {
  const key = lam(c, 1, 'keySelector') as (x: unknown) => unknown;
  const value = lam(c, 2, 'valueSelector');
  const agg = lam(c, 3, 'aggregator');
  const groups: [unknown, unknown[]][] = [];
  for (const x of iterate(coll)) {
    tick();
    const k = key(x);
    const v = value ? value(x) : x;
    const g = groups.find((e) => pyEquals(e[0], k));
    if (g) g[1].push(v);
    else groups.push([k, [v]]);
  }
  const out = groups.map(([k, vs]) => [k, agg ? agg(vs) : vs]);
  return lazy(() => out);
});

def('range', 'F', (c) => {
  argc(c, 1, 3);
  let start = 0;
  let stop: number;
  let step = 1;
  if (c.args.length === 1) stop = int(c, 0, 'stop');
  else {
    start = int(c, 0, 'start');
    stop = int(c, 1, 'stop');
    step = int(c, 2, 'step', 1);
  }
  if (step === 0) fail('ValueError', 'range() arg 3 must not be zero');
  return lazy(function* () {
    for (let i = start; step > 0 ? i < stop : i > stop; i += step) yield i;
  });
});
def('sequence', 'F', (c) => {
  const start = optVal(c, 0, 'start', 0);
  const step = optVal(c, 1, 'step', 1);
  if (!isNumber(start) || !isNumber(step)) skip(c);
  return lazy(function* () {
    for (let i = numValue(start); ; i += numValue(step))
      yield isFloat(start) || isFloat(step) ? mkFloat(i) : i;
  });
});
def('repeat', 'M', (c) => {
  const v = val(c, 0);
  const times = int(c, 1, 'times', -1);
  return lazy(function* () {
    for (let i = 0; times < 0 || i < times; i++) yield v;
  });
});
query('cycle', 'M', (coll) => {
  const xs = toArray(coll);
  return lazy(function* () {
    if (xs.length === 0) return;
    for (;;) yield* xs;
  });
});

// ---- context and branching ----------------------------------------------------------------------

def('let', 'F', (c) => {
  const vars: [string, unknown][] = c.args.map((a, i) => [`$${i + 1}`, a.value()]);
  for (const r of c.rules) vars.push([`$${String(r.key.value())}`, r.value.value()]);
  return new YContext(c.scope.child(vars));
});
def('with', 'F', (c) => new YContext(c.scope.child(c.args.map((a, i) => [`$${i + 1}`, a.value()]))));
def('unpack', 'M', (c) => {
  const xs = toArray(iter(c, 0));
  const names = c.args.slice(1).map((a) => a.value());
  if (names.length > 0 && names.length !== xs.length) {
    fail('ValueError', `Cannot unpack ${xs.length} elements into ${names.length}`);
  }
  const vars: [string, unknown][] = names.length
    ? names.map((n, i) => [`$${String(n)}`, xs[i]])
    : xs.map((x, i) => [`$${i + 1}`, x]);
  return new YContext(c.scope.child(vars));
});
def('coalesce', 'F', (c) => {
  for (const a of c.args) {
    const v = a.value();
    if (v !== null) return v;
  }
  return null;
});
def('switch', 'F', (c) => {
  if (c.args.length) skip(c);
  for (const r of c.rules) if (pyTruthy(r.key.value())) return r.value.value();
  return null;
});
def('selectCase', 'F', (c) => {
  let i = 0;
  for (const a of c.args) {
    if (pyTruthy(a.value())) return i;
    i++;
  }
  return i;
});
def('selectAllCases', 'F', (c) => {
  const out: number[] = [];
  c.args.forEach((a, i) => {
    if (pyTruthy(a.value())) out.push(i);
  });
  return lazy(() => out);
});
def('examine', 'F', (c) => {
  const out = c.args.map((a) => pyTruthy(a.value()));
  return lazy(() => out);
});
def('switchCase', 'M', (c) => {
  const k = int(c, 0, undefined);
  const branches = c.args.slice(1);
  if (k >= 0 && k < branches.length) return branches[k].value();
  if (branches.length === 0) return null;
  return branches[branches.length - 1].value();
});
def('assert', 'M', (c) => {
  const obj = val(c, 0);
  const cond = lam(c, 1, 'condition') as (x: unknown) => unknown;
  const message = optVal(c, 2, 'message', 'Assertion failed');
  if (!pyTruthy(cond(obj))) fail('AssertionError', String(message));
  return obj;
});

export const BUILTINS: ReadonlyMap<string, Builtin> = B;
