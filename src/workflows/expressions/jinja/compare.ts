/**
 * Python's comparisons for Jinja templates. nunjucks compiles `a == b` and `a > b` to JavaScript's
 * operators, so `'1' == 1` and `[1] == [1]` disagreed with st2 and `'x' > 2` was quietly false
 * where Jinja2 raises TypeError (orquesta then fails the workflow).
 */
import nunjucks from 'nunjucks';
import { SquallError } from '../../../errors.js';
import { pyEquals, pyOrder, pyTypeName } from './python.js';
import { nunjucksMethod } from './patches.js';

type Op = '==' | '!=' | '<' | '>' | '<=' | '>=';
const PYTHON_OPS = new Set<string>(['==', '!=', '<', '>', '<=', '>=']);

function compare(a: unknown, op: Op, b: unknown): boolean {
  if (op === '==') return pyEquals(a, b);
  if (op === '!=') return !pyEquals(a, b);
  const order = pyOrder(a, b);
  if (order === undefined) {
    throw new SquallError(
      'JINJA_PYTHON_TYPE_ERROR',
      `'${op}' not supported between instances of '${pyTypeName(a)}' and '${pyTypeName(b)}'`,
      { python: 'TypeError' },
    );
  }
  return op === '<' ? order < 0 : op === '>' ? order > 0 : op === '<=' ? order <= 0 : order >= 0;
}

interface CompareNode {
  expr: unknown;
  ops: Array<{ type: string; expr: unknown }>;
}
interface CompilerThis {
  compile(node: unknown, frame: unknown): void;
  _emit(code: string): void;
}

/**
 * Python's `in`: a list holds what equals the key (`[1] in [[1]]`), a dict its keys, a str its
 * substrings; an undefined container holds nothing (Jinja2's Undefined iterates nothing), where
 * nunjucks threw; None and numbers are not containers.
 */
export function pyIn(key: unknown, container: unknown): boolean {
  if (container === undefined) return false;
  if (typeof container === 'string' || container instanceof String) {
    if (typeof key === 'string' || key instanceof String) return container.includes(String(key));
    throw new SquallError(
      'JINJA_PYTHON_TYPE_ERROR',
      `'in <string>' requires string as left operand, not ${key === undefined ? 'Undefined' : pyTypeName(key)}`,
      { python: 'TypeError' },
    );
  }
  if (Array.isArray(container)) return container.some((item) => pyEquals(item, key));
  if (container !== null && typeof container === 'object')
    return typeof key === 'string' && Object.prototype.hasOwnProperty.call(container, key);
  throw new SquallError(
    'JINJA_PYTHON_TYPE_ERROR',
    `argument of type '${pyTypeName(container)}' is not iterable`,
    { python: 'TypeError' },
  );
}

/**
 * Compiles Jinja's comparison operators to Python's (a chain `a < b < c` as `a < b and b < c`).
 * Patches nunjucks for the whole process: only installNunjucksPatches calls it, once.
 */
export function patchPythonComparisons(): void {
  const n = nunjucks as unknown as {
    runtime: Record<string, unknown>;
    compiler: { Compiler: { prototype: Record<string, unknown> } };
  };
  n.runtime.pyCompareChain = (values: unknown[], ops: Op[]): boolean =>
    ops.every((op, i) => compare(values[i], op, values[i + 1]));
  nunjucksMethod(n.runtime, 'inOperator', 'in');
  n.runtime.inOperator = pyIn;
  const proto = n.compiler.Compiler.prototype;
  const original = nunjucksMethod<(this: CompilerThis, node: CompareNode, frame: unknown) => void>(
    proto,
    'compileCompare',
    'comparisons',
  );
  proto.compileCompare = function (this: CompilerThis, node: CompareNode, frame: unknown): void {
    if (!node.ops.every((op) => PYTHON_OPS.has(op.type))) {
      original.call(this, node, frame);
      return;
    }
    this._emit('runtime.pyCompareChain([');
    this.compile(node.expr, frame);
    for (const op of node.ops) {
      this._emit(', ');
      this.compile(op.expr, frame);
    }
    this._emit(`], ${JSON.stringify(node.ops.map((op) => op.type))})`);
  };
}
