/**
 * Jinja2's `namespace()` and `{% set ns.name = value %}`: the way st2 templates carry a value out
 * of a loop (`{% set ns = namespace(found=false) %}{% for … %}{% set ns.found = true %}`), since a
 * plain `{% set %}` in a loop stays in its iteration. nunjucks had no namespace() and failed to
 * compile an attribute as a `set` target.
 */
import { SquallError } from '../../../errors.js';
import { addRuntimeHelpers } from './arithmetic.js';
import { isPlainObject, PyNamespace } from './python.js';
import { nunjucksMethod } from './patches.js';

interface Node {
  typename: string;
  value?: unknown;
  target?: Node;
  val?: Node & { value?: unknown };
  targets?: Node[];
  body?: unknown;
}
interface CompilerThis {
  compile(node: unknown, frame: unknown): void;
  _compileExpression(node: unknown, frame: unknown): void;
  _emit(code: string): void;
  _emitLine(code: string): void;
  fail(message: string, lineno?: number, colno?: number): never;
}

/** Jinja2's namespace(*args, **kwargs): attributes from a dict argument and the keyword arguments. */
export function pyNamespace(...args: unknown[]): PyNamespace {
  const ns = new PyNamespace();
  for (const arg of args) {
    if (arg === null || typeof arg !== 'object') continue;
    const { __keywords: _k, ...attrs } = arg as Record<string, unknown>;
    if (!isPlainObject(arg))
      throw new SquallError('JINJA_PYTHON_TYPE_ERROR', 'namespace() takes a dict or keyword arguments', {
        python: 'TypeError',
      });
    for (const [k, v] of Object.entries(attrs)) setAttr(ns, k, v);
  }
  return ns;
}

function setAttr(ns: PyNamespace, name: string, value: unknown): void {
  // An own data property, whatever the name (`__proto__` included): never the prototype's.
  Object.defineProperty(ns, name, { value, writable: true, enumerable: true, configurable: true });
}

/** `{% set obj.name = value %}`: only a namespace takes attributes, as in Jinja2. */
function pySetAttr(obj: unknown, name: string, value: unknown): void {
  if (!(obj instanceof PyNamespace))
    throw new SquallError('JINJA_SET_ATTRIBUTE', 'cannot assign attribute on non-namespace object', {
      python: 'TemplateRuntimeError',
    });
  setAttr(obj, name, value);
}

/** Installs the compiler change. Only installNunjucksPatches calls it, once. */
export function patchNamespace(): void {
  const proto = addRuntimeHelpers({ pySetAttr });
  const compileSet = nunjucksMethod<(this: CompilerThis, node: Node, frame: unknown) => void>(
    proto,
    'compileSet',
    'namespace',
  );
  proto.compileSet = function (this: CompilerThis, node: Node, frame: unknown): void {
    const target = node.targets?.[0];
    if (target?.typename !== 'LookupVal') {
      compileSet.call(this, node, frame);
      return;
    }
    // Jinja2 allows one `name.attr` target, with a value (not a `{% set %}…{% endset %}` block).
    if (node.targets?.length !== 1 || !node.value || typeof target.val?.value !== 'string')
      this.fail('can only assign one namespace attribute, as {% set ns.name = value %}');
    this._emit('runtime.pySetAttr(');
    this._compileExpression(target.target, frame);
    this._emit(`, ${JSON.stringify(target.val.value)}, `);
    this._compileExpression(node.value, frame);
    this._emitLine(');');
  };
}
