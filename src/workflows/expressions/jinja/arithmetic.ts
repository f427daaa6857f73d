/**
 * Python's `+` and `*` for Jinja templates. nunjucks compiles them to JavaScript's operators, so
 * `[a] + ctx().records` (list concatenation, used by Exchange workflows) rendered the string
 * "a,b,c", `'-' * 20` rendered nothing (NaN) and `'a' + 1` was "a1" where Jinja2 raises TypeError.
 */
import nunjucks from 'nunjucks';
import { SquallError } from '../../../errors.js';
import { spendBuild } from './budget.js';
import { pyTypeName } from './python.js';

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
  if (Array.isArray(a) && Array.isArray(b)) {
    spendBuild(a.length + b.length, 'list +');
    return [...a, ...b];
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

interface BinOpNode {
  left: unknown;
  right: unknown;
}
interface CompilerThis {
  compile(node: unknown, frame: unknown): void;
  _emit(code: string): void;
}

/** Compiles Jinja's `+` and `*` to Python's. Only installNunjucksPatches calls it, once. */
export function patchPythonArithmetic(): void {
  const n = nunjucks as unknown as {
    runtime: Record<string, unknown>;
    compiler: { Compiler: { prototype: Record<string, unknown> } };
  };
  n.runtime.pyAdd = pyAdd;
  n.runtime.pyMul = pyMul;
  const proto = n.compiler.Compiler.prototype;
  const emitCall = (fn: string) =>
    function (this: CompilerThis, node: BinOpNode, frame: unknown): void {
      this._emit(`runtime.${fn}(`);
      this.compile(node.left, frame);
      this._emit(', ');
      this.compile(node.right, frame);
      this._emit(')');
    };
  proto.compileAdd = emitCall('pyAdd');
  proto.compileMul = emitCall('pyMul');
}
