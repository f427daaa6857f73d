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
