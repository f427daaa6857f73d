/**
 * Python prints a float that holds a whole number as `2.0`; JavaScript has one number type and
 * printed `2`. What a `{{ }}` prints is a float in Python when its expression is one by
 * construction: a float literal, a `/`, the `float` filter, or arithmetic on one of those. Those
 * outputs print through Python's float repr. (A float read from the data arrives as a plain
 * JavaScript number, so `{{ 2.0 }}` in a payload still prints `2`.)
 */
import nunjucks from 'nunjucks';
import { nunjucksMethod } from './patches.js';
import { pyStr } from './python.js';

interface Node {
  typename: string;
  value?: unknown;
  pyFloat?: boolean;
  left?: Node;
  right?: Node;
  target?: Node;
  children?: Node[];
  name?: Node;
  args?: Node;
}

const ARITHMETIC = new Set(['Add', 'Sub', 'Mul', 'Mod', 'FloorDiv', 'Pow']);

/** True when Python would compute a float for this expression whatever the data. */
function isFloat(node: Node | undefined): boolean {
  if (!node) return false;
  switch (node.typename) {
    case 'Literal':
      return node.pyFloat === true;
    case 'Div':
      return true;
    case 'Neg':
    case 'Pos':
      return isFloat(node.target);
    case 'Group':
      return node.children?.length === 1 && isFloat(node.children[0]);
    case 'Filter': {
      const name = node.name?.value;
      const input = node.args?.children?.[0];
      return name === 'float' || ((name === 'round' || name === 'abs') && isFloat(input));
    }
    default:
      return ARITHMETIC.has(node.typename) && (isFloat(node.left) || isFloat(node.right));
  }
}

/** Python's str() of a float. */
export function pyFloatStr(value: unknown): string {
  if (typeof value !== 'number' || !Number.isInteger(value)) return pyStr(value);
  if (Object.is(value, -0)) return '-0.0';
  // repr() switches to exponent notation at 1e16.
  return Math.abs(value) >= 1e16 ? value.toExponential() : `${value}.0`;
}

interface ParserThis {
  peekToken(): { type: string } | null;
}
interface CompilerThis {
  _emit(code: string): void;
}

/**
 * Marks float literals in the parse and sends a float-typed `{{ }}` to `floatOutput` instead of
 * `output`. Only installNunjucksPatches calls it, once.
 */
export function patchFloatOutput(output: string, floatOutput: string): void {
  const n = nunjucks as unknown as {
    lexer: { TOKEN_FLOAT: string };
    parser: { Parser: { prototype: Record<string, unknown> } };
    compiler: { Compiler: { prototype: Record<string, unknown> } };
  };
  const parser = n.parser.Parser.prototype;
  const parsePrimary = nunjucksMethod<(this: ParserThis, noPostfix?: boolean) => Node>(
    parser,
    'parsePrimary',
    'floats',
  );
  parser.parsePrimary = function (this: ParserThis, noPostfix?: boolean): Node {
    const tok = this.peekToken();
    const node = parsePrimary.call(this, noPostfix);
    if (tok?.type === n.lexer.TOKEN_FLOAT && node.typename === 'Literal') node.pyFloat = true;
    return node;
  };
  const compiler = n.compiler.Compiler.prototype;
  const compileFilter = nunjucksMethod<(this: CompilerThis, node: Node, frame: unknown) => void>(
    compiler,
    'compileFilter',
    'floats',
  );
  compiler.compileFilter = function (this: CompilerThis, node: Node, frame: unknown): void {
    if (node.name?.value === output && isFloat(node.args?.children?.[0])) node.name.value = floatOutput;
    compileFilter.call(this, node, frame);
  };
}
