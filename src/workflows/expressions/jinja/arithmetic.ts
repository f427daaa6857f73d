/**
 * Python's `+` and `*` for Jinja templates. nunjucks compiles them to JavaScript's operators, so
 * `[a] + ctx().records` (list concatenation, used by Exchange workflows) rendered the string
 * "a,b,c", `'-' * 20` rendered nothing (NaN) and `'a' + 1` was "a1" where Jinja2 raises TypeError.
 */
import nunjucks from 'nunjucks';
import { SquallError } from '../../../errors.js';
import { spendBuild } from './budget.js';
import { pyPercentFormat } from './pyformat.js';
import { isTuple, pyTuple, pyTypeName } from './python.js';

const SafeString = (nunjucks as unknown as { runtime: { SafeString: new (s: string) => object } }).runtime
  .SafeString;

// A string a filter marked safe is still a str to Python.
const plain = (v: unknown): unknown => (v instanceof SafeString ? String(v) : v);

function numeric(v: unknown): number | null {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return null;
}

function typeError(message: string): SquallError {
  return new SquallError('JINJA_PYTHON_TYPE_ERROR', message, { python: 'TypeError' });
}

function unsupported(op: string, a: unknown, b: unknown): SquallError {
  return typeError(`unsupported operand type(s) for ${op}: '${pyTypeName(a)}' and '${pyTypeName(b)}'`);
}

export function pyAdd(left: unknown, right: unknown): unknown {
  const a = plain(left);
  const b = plain(right);
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== null && nb !== null) return na + nb;
  if (typeof a === 'string' && typeof b === 'string') return a + b;
  if (Array.isArray(a) && Array.isArray(b) && isTuple(a) === isTuple(b)) {
    spendBuild(a.length + b.length, 'list +');
    return isTuple(a) ? pyTuple([...a, ...b]) : [...a, ...b];
  }
  if (typeof a === 'string' || Array.isArray(a))
    throw typeError(`can only concatenate ${pyTypeName(a)} (not "${pyTypeName(b)}") to ${pyTypeName(a)}`);
  throw unsupported('+', a, b);
}

function repeat(seq: string | unknown[], times: number): string | unknown[] {
  const n = Math.max(0, times);
  spendBuild(seq.length * n, `${pyTypeName(seq)} * ${n}`);
  if (typeof seq === 'string') return seq.repeat(n);
  const out: unknown[] = [];
  for (let i = 0; i < n; i += 1) out.push(...seq);
  return out;
}

export function pyMul(left: unknown, right: unknown): unknown {
  const a = plain(left);
  const b = plain(right);
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== null && nb !== null) return na * nb;
  const sequence = (v: unknown): v is string | unknown[] => typeof v === 'string' || Array.isArray(v);
  const [seq, count] = sequence(a) ? [a, b] : sequence(b) ? [b, a] : [null, null];
  if (seq === null) throw unsupported('*', a, b);
  const times = numeric(count);
  if (times === null || !Number.isInteger(times))
    throw typeError(`can't multiply sequence by non-int of type '${pyTypeName(count)}'`);
  return repeat(seq, times);
}

function zeroDivision(message: string): SquallError {
  return new SquallError('JINJA_PYTHON_ZERO_DIVISION', message, { python: 'ZeroDivisionError' });
}

function operands(op: string, left: unknown, right: unknown): [number, number] {
  const a = numeric(plain(left));
  const b = numeric(plain(right));
  if (a === null || b === null) throw unsupported(op, plain(left), plain(right));
  return [a, b];
}

const bothIntegers = (a: number, b: number): boolean => Number.isInteger(a) && Number.isInteger(b);

/** Python's `%`: printf-style formatting on a str, the sign of the divisor on numbers. */
export function pyMod(left: unknown, right: unknown): unknown {
  const a = plain(left);
  if (typeof a === 'string') return pyPercentFormat(a, plain(right));
  const [x, y] = operands('%', a, right);
  if (y === 0) throw zeroDivision(bothIntegers(x, y) ? 'integer modulo by zero' : 'float modulo');
  const r = x % y;
  return r !== 0 && r < 0 !== y < 0 ? r + y : r;
}

export function pyDiv(left: unknown, right: unknown): number {
  const [x, y] = operands('/', left, right);
  if (y === 0) throw zeroDivision('division by zero');
  return x / y;
}

export function pyFloorDiv(left: unknown, right: unknown): number {
  const [x, y] = operands('//', left, right);
  if (y === 0)
    throw zeroDivision(
      bothIntegers(x, y) ? 'integer division or modulo by zero' : 'float floor division by zero',
    );
  return Math.floor(x / y);
}

interface BinOpNode {
  left: unknown;
  right: unknown;
}
interface CompilerThis {
  compile(node: unknown, frame: unknown): void;
  _emit(code: string): void;
}

/** Adds functions compiled templates call (as `runtime.name`); returns the compiler's prototype to patch. */
export function addRuntimeHelpers(helpers: Record<string, unknown>): Record<string, unknown> {
  const n = nunjucks as unknown as {
    runtime: Record<string, unknown>;
    compiler: { Compiler: { prototype: Record<string, unknown> } };
  };
  Object.assign(n.runtime, helpers);
  return n.compiler.Compiler.prototype;
}

/**
 * A compiler method for a binary operator that calls `runtime[fn](left, right)`; `lazyRight` passes
 * the right operand as a function, for operators that may not evaluate it (`and`, `or`).
 */
export function emitCall(fn: string, lazyRight = false) {
  return function (this: CompilerThis, node: BinOpNode, frame: unknown): void {
    this._emit(`runtime.${fn}(`);
    this.compile(node.left, frame);
    this._emit(lazyRight ? ', () => (' : ', ');
    this.compile(node.right, frame);
    this._emit(lazyRight ? '))' : ')');
  };
}

/** Compiles Jinja's `+`, `*`, `/`, `//` and `%` to Python's. Only installNunjucksPatches calls it, once. */
export function patchPythonArithmetic(): void {
  const proto = addRuntimeHelpers({ pyAdd, pyMul, pyMod, pyDiv, pyFloorDiv });
  proto.compileAdd = emitCall('pyAdd');
  proto.compileMul = emitCall('pyMul');
  proto.compileMod = emitCall('pyMod');
  proto.compileDiv = emitCall('pyDiv');
  proto.compileFloorDiv = emitCall('pyFloorDiv');
}
