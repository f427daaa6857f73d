/**
 * Python's truth, tuples and `~` for Jinja templates. nunjucks compiled `if`, `not`, `and`, `or`
 * to JavaScript's, where `[]` and `{}` are true (`{% if result.errors %}` took the branch on an
 * empty list); `(a, b)` was JavaScript's comma operator (the value of `b`); `~` printed null and
 * true as JavaScript does ('null', 'true') where Jinja2 prints None and True.
 */
import nunjucks from 'nunjucks';
import { addRuntimeHelpers, emitCall } from './arithmetic.js';
import { isPlainObject, pyStr, pyTuple } from './python.js';
import { spendIterations } from './budget.js';
import { nunjucksMethod, patchMismatch } from './patches.js';

/** Python's bool(): empty lists and dicts are false too. */
export function pyTruthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (isPlainObject(v)) return Object.keys(v).length > 0;
  if (v instanceof String) return v.length > 0;
  return Boolean(v);
}

interface Node {
  typename: string;
  arr?: Node;
  pyLoopFilter?: unknown;
  pyTuple?: boolean;
  name?: { value?: string; children?: Array<{ value: string }> };
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

function loopNames(node: Node): string[] {
  return node.name?.children ? node.name.children.map((c) => c.value) : [node.name?.value ?? ''];
}

interface LoopFrame {
  push(): LoopFrame;
  set(name: string, value: unknown): void;
}

/**
 * What a loop iterates, as Python: a dict's keys for one loop name, and only the items its `if`
 * holds for (a key, value loop over an object keeps its pairs).
 */
function pyLoopSeq(
  seq: unknown,
  frame: LoopFrame,
  names: string[],
  cond: ((frame: LoopFrame) => unknown) | null,
): unknown {
  if (names.length === 1 && isPlainObject(seq)) seq = Object.keys(seq);
  spendIterations(seq);
  if (!cond) return seq;
  const holds = (item: unknown): boolean => {
    const f = frame.push();
    if (names.length === 1) f.set(names[0], item);
    else names.forEach((n, i) => f.set(n, (item as unknown[])[i]));
    return pyTruthy(cond(f));
  };
  if (Array.isArray(seq)) return seq.filter(holds);
  if (typeof seq === 'string') return [...seq].filter(holds);
  if (isPlainObject(seq)) return Object.fromEntries(Object.entries(seq).filter((pair) => holds(pair)));
  return seq;
}

/** Installs the compiler changes. Only installNunjucksPatches calls it, once. */
export function patchPythonLogic(): void {
  const proto = addRuntimeHelpers({
    pyTruthy,
    pyTuple,
    pyLoopSeq,
    pyLoopCycle: (i: number) =>
      function (...items: unknown[]): unknown {
        if (items.length === 0) throw new Error('no items for cycling given');
        return items[i % items.length];
      },
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
  const compileFor = nunjucksMethod<(this: CompilerThis, node: Node, frame: unknown) => void>(
    proto,
    'compileFor',
    'loop scope',
  );
  const LOOP_HEAD = /^for\((?:var )?t_\d+(?:=0; t_\d+ < t_\d+\.length; t_\d+\+\+| in t_\d+)\) \{$/;
  proto.compileFor = function (this: CompilerThis, node: Node, frame: unknown): void {
    const emitLine = this._emitLine;
    const emit = this._emit;
    const cond = node.pyLoopFilter;
    const names = loopNames(node);
    // Right after nunjucks assigns the sequence to its variable: a dict iterated with one name
    // gives its keys (nunjucks iterated nothing), and `for x in seq if cond` keeps the items the
    // condition holds for (evaluated with the loop variables bound).
    let seqVar: string | undefined;
    let seqRewritten = false;
    let headRewritten = false;
    this._emit = (code: string): void => {
      seqVar ??= /^var (t_\d+) = $/.exec(code)?.[1];
      emit.call(this, code);
    };
    this._emitLine = (code: string): void => {
      if (seqVar && this._emit !== emit && code === ';') {
        this._emit = emit;
        emitLine.call(this, ';');
        emit.call(this, `${seqVar} = runtime.pyLoopSeq(${seqVar}, frame, ${JSON.stringify(names)}, `);
        if (cond) {
          emit.call(this, 'function(frame) { return ');
          this.compile(cond, frame);
          emit.call(this, '; }');
        } else emit.call(this, 'null');
        emitLine.call(this, ');');
        seqRewritten = true;
        return;
      }
      if (LOOP_HEAD.test(code)) {
        headRewritten = true;
        emitLine.call(this, `${code} frame = frame.pop().push(true);`);
      } else emitLine.call(this, code);
    };
    try {
      compileFor.call(this, node, frame);
    } finally {
      this._emitLine = emitLine;
      this._emit = emit;
    }
    // Both rewrites look for lines of nunjucks' own output: a nunjucks that emits its loops
    // differently must stop every loop here, not render them with JavaScript's scoping.
    if (!seqRewritten)
      throw patchMismatch('loop sequence', "the `var t_N = <sequence>;` line nunjucks' compileFor emitted");
    if (!headRewritten)
      throw patchMismatch('loop scope', "the `for(...) {` line nunjucks' compileFor emitted");
  };
  const parser = (nunjucks as unknown as { parser: { Parser: { prototype: Record<string, unknown> } } })
    .parser.Parser.prototype;
  const parseFor = nunjucksMethod<(this: unknown) => Node>(parser, 'parseFor', 'loop filter');
  // nunjucks read `for x in seq if cond` as iterating `seq if cond` (an inline if with no else,
  // the empty string when cond is false), so the loop rendered nothing.
  parser.parseFor = function (this: unknown): Node {
    const node = parseFor.call(this);
    const arr = node.arr;
    if (arr?.typename === 'InlineIf' && arr.else_ === null) {
      node.pyLoopFilter = arr.cond;
      node.arr = arr.body as Node;
    }
    return node;
  };
  // Jinja2's loop.cycle(a, b, ...), next to nunjucks' loop bindings.
  const emitLoopBindings = nunjucksMethod<
    (this: CompilerThis, node: Node, arr: string, i: string, len: string) => void
  >(proto, '_emitLoopBindings', 'loop.cycle');
  proto._emitLoopBindings = function (
    this: CompilerThis,
    node: Node,
    arr: string,
    i: string,
    len: string,
  ): void {
    emitLoopBindings.call(this, node, arr, i, len);
    this._emitLine(`frame.set("loop.cycle", runtime.pyLoopCycle(${i}));`);
  };
  const group = nunjucksMethod<(this: CompilerThis, node: Node, frame: unknown) => void>(
    proto,
    'compileGroup',
    'tuples',
  );
  proto.compileGroup = function (this: CompilerThis, node: Node, frame: unknown): void {
    if ((node.children?.length ?? 0) < 2 && !node.pyTuple) {
      group.call(this, node, frame);
      return;
    }
    this._emit('runtime.pyTuple(');
    this._compileAggregate(node, frame, '[', ']');
    this._emit(')');
  };
}
