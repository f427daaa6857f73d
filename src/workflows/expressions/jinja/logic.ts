/**
 * Python's truth, tuples and `~` for Jinja templates. nunjucks compiled `if`, `not`, `and`, `or`
 * to JavaScript's, where `[]` and `{}` are true (`{% if result.errors %}` took the branch on an
 * empty list); `(a, b)` was JavaScript's comma operator (the value of `b`); `~` printed null and
 * true as JavaScript does ('null', 'true') where Jinja2 prints None and True.
 */
import { addRuntimeHelpers, emitCall } from './arithmetic.js';
import { isPlainObject, pyStr, pyTuple } from './python.js';

/** Python's bool(): empty lists and dicts are false too. */
export function pyTruthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (isPlainObject(v)) return Object.keys(v).length > 0;
  if (v instanceof String) return v.length > 0;
  return Boolean(v);
}

interface Node {
  typename: string;
  children?: unknown[];
  cond?: unknown;
  body?: unknown;
  else_?: unknown;
  left?: unknown;
  right?: unknown;
  target?: unknown;
}
interface CompilerThis {
  compile(node: unknown, frame: unknown): void;
  _emit(code: string): void;
  _emitLine(code: string): void;
  _withScopedSyntax(fn: () => void): void;
  _compileAggregate(node: unknown, frame: unknown, open: string, close: string): void;
}

/** Installs the compiler changes. Only installNunjucksPatches calls it, once. */
export function patchPythonLogic(): void {
  const proto = addRuntimeHelpers({
    pyTruthy,
    pyTuple,
    pyStr,
    // Python's `a or b` and `a and b` yield an operand, decided by its truth; `b` stays lazy.
    pyOr: (a: unknown, b: () => unknown): unknown => (pyTruthy(a) ? a : b()),
    pyAnd: (a: unknown, b: () => unknown): unknown => (pyTruthy(a) ? b() : a),
  });

  const truth = (self: CompilerThis, node: unknown, frame: unknown): void => {
    self._emit('runtime.pyTruthy(');
    self.compile(node, frame);
    self._emit(')');
  };
  proto.compileIf = function (this: CompilerThis, node: Node, frame: unknown, async?: boolean): void {
    this._emit('if(');
    truth(this, node.cond, frame);
    this._emitLine(') {');
    this._withScopedSyntax(() => {
      this.compile(node.body, frame);
      if (async) this._emit('cb()');
    });
    if (node.else_) {
      this._emitLine('}\nelse {');
      this._withScopedSyntax(() => {
        this.compile(node.else_, frame);
        if (async) this._emit('cb()');
      });
    } else if (async) {
      this._emitLine('}\nelse {');
      this._emit('cb()');
    }
    this._emitLine('}');
  };
  proto.compileInlineIf = function (this: CompilerThis, node: Node, frame: unknown): void {
    this._emit('(');
    truth(this, node.cond, frame);
    this._emit('?');
    this.compile(node.body, frame);
    this._emit(':');
    if (node.else_ !== null) this.compile(node.else_, frame);
    else this._emit('""');
    this._emit(')');
  };
  proto.compileNot = function (this: CompilerThis, node: Node, frame: unknown): void {
    this._emit('!');
    truth(this, node.target, frame);
  };
  proto.compileOr = emitCall('pyOr', true);
  proto.compileAnd = emitCall('pyAnd', true);
  proto.compileConcat = function (this: CompilerThis, node: Node, frame: unknown): void {
    this._emit('(runtime.pyStr(');
    this.compile(node.left, frame);
    this._emit(') + runtime.pyStr(');
    this.compile(node.right, frame);
    this._emit('))');
  };
  // Jinja2 scopes a `{% set %}` inside a loop to one iteration; nunjucks wrote it through to the
  // enclosing scope (`{% set found = true %}` in a loop changed `found` after it). Each iteration
  // now starts a frame whose writes stay in it. The line is rewritten here because nunjucks emits
  // the loop as source text; a nested loop's lines pass through already rewritten (they no longer
  // end with '{').
  const compileFor = proto.compileFor as (this: CompilerThis, node: Node, frame: unknown) => void;
  const LOOP_HEAD = /^for\((?:var )?t_\d+(?:=0; t_\d+ < t_\d+\.length; t_\d+\+\+| in t_\d+)\) \{$/;
  proto.compileFor = function (this: CompilerThis, node: Node, frame: unknown): void {
    const emitLine = this._emitLine;
    this._emitLine = (code: string): void => {
      emitLine.call(this, LOOP_HEAD.test(code) ? `${code} frame = frame.pop().push(true);` : code);
    };
    try {
      compileFor.call(this, node, frame);
    } finally {
      this._emitLine = emitLine;
    }
  };
  const group = proto.compileGroup as (this: CompilerThis, node: Node, frame: unknown) => void;
  proto.compileGroup = function (this: CompilerThis, node: Node, frame: unknown): void {
    if ((node.children?.length ?? 0) < 2) {
      group.call(this, node, frame);
      return;
    }
    this._emit('runtime.pyTuple(');
    this._compileAggregate(node, frame, '[', ']');
    this._emit(')');
  };
}
