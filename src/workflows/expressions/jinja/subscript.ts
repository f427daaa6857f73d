/**
 * Python's subscripts in Jinja: slices (`x[:-1]`, `s[:19]`, `l[::2]`) and negative indexes
 * (`l[-1]`). Jinja2 evaluates them as Python does and st2 content relies on it (st2's
 * executions_list alias prints `exe.start_timestamp[:19]`, menandmice's test_range workflow
 * `ctx().starting_address[:-1]`); nunjucks parses no slice and reads `l[-1]` as a missing key.
 *
 * A slice is parsed into a member lookup whose key is a tagged array, so the compiled template
 * still goes through runtime.memberLookup (and the sandbox behind it).
 */
import nunjucks from 'nunjucks';
import { SquallError } from '../../../errors.js';

/** Marks a slice key; no Python subscript is a list, so no template means this by accident. */
const SLICE = '\u0000slice';

interface Token {
  type: string;
  value: string;
  lineno: number;
  colno: number;
}
interface ParserThis {
  peekToken(): Token | null;
  nextToken(): Token;
  skip(type: string): boolean;
  expect(type: string): Token;
  fail(msg: string, lineno?: number, colno?: number): never;
  parseExpression(): any;
  parseSignature(): any;
}

const lib = nunjucks as unknown as {
  lexer: Record<string, string>;
  nodes: Record<string, new (lineno: number, colno: number, ...args: any[]) => any>;
  parser: { Parser: { prototype: { parsePostfix(this: ParserThis, node: any): any } } };
  runtime: { memberLookup: (obj: unknown, key: unknown) => unknown };
};

/** `[start:stop:step]` or `[index]`, the `[` already peeked. */
function parseSubscript(p: ParserThis, target: any, open: Token): any {
  const { lexer, nodes } = lib;
  p.nextToken();
  const next = () => p.peekToken()?.type;
  const start = next() === lexer.TOKEN_COLON ? undefined : p.parseExpression();
  if (p.skip(lexer.TOKEN_RIGHT_BRACKET)) return new nodes.LookupVal(open.lineno, open.colno, target, start);
  if (!p.skip(lexer.TOKEN_COLON)) p.fail('invalid index', open.lineno, open.colno);
  const bound = () =>
    next() === lexer.TOKEN_COLON || next() === lexer.TOKEN_RIGHT_BRACKET ? undefined : p.parseExpression();
  const stop = bound();
  const step = p.skip(lexer.TOKEN_COLON) ? bound() : undefined;
  p.expect(lexer.TOKEN_RIGHT_BRACKET);
  const none = () => new nodes.Literal(open.lineno, open.colno, null);
  const key = new nodes.Array(open.lineno, open.colno, [
    new nodes.Literal(open.lineno, open.colno, SLICE),
    start ?? none(),
    stop ?? none(),
    step ?? none(),
  ]);
  return new nodes.LookupVal(open.lineno, open.colno, target, key);
}

/** Python's slice of a list or str (None bounds, negative ones, any step but 0). */
export function pySlice(value: unknown, start: unknown, stop: unknown, step: unknown): unknown {
  if (!Array.isArray(value) && typeof value !== 'string') return undefined;
  const bound = (b: unknown, name: string): number | undefined => {
    if (b === null || b === undefined) return undefined;
    if (typeof b !== 'number' || !Number.isInteger(b))
      throw new SquallError(
        'TEMPLATE_SLICE',
        `slice ${name} must be an integer or None, not ${JSON.stringify(b)}`,
      );
    return b;
  };
  const by = bound(step, 'step') ?? 1;
  if (by === 0) throw new SquallError('TEMPLATE_SLICE', 'slice step cannot be zero');
  const items = typeof value === 'string' ? [...value] : value;
  const n = items.length;
  const clamp = (b: number | undefined, dflt: number, low: number, high: number) => {
    if (b === undefined) return dflt;
    const i = b < 0 ? b + n : b;
    return Math.min(Math.max(i, low), high);
  };
  const out: unknown[] = [];
  if (by > 0) {
    const from = clamp(bound(start, 'start'), 0, 0, n);
    const to = clamp(bound(stop, 'stop'), n, 0, n);
    for (let i = from; i < to; i += by) out.push(items[i]);
  } else {
    const from = clamp(bound(start, 'start'), n - 1, -1, n - 1);
    const to = clamp(bound(stop, 'stop'), -1, -1, n - 1);
    // An explicit stop below -n means "before the first item", as -1 does here.
    for (let i = from; i > to; i += by) out.push(items[i]);
  }
  return typeof value === 'string' ? out.join('') : out;
}

/**
 * Teaches nunjucks' parser and runtime Python's subscripts. Patches nunjucks for the whole
 * process: only installNunjucksPatches calls it, once.
 */
export function patchPythonSubscripts(): void {
  const { lexer, nodes, runtime } = lib;
  lib.parser.Parser.prototype.parsePostfix = function (this: ParserThis, node: any) {
    for (let tok = this.peekToken(); tok; tok = this.peekToken()) {
      if (tok.type === lexer.TOKEN_LEFT_PAREN) {
        node = new nodes.FunCall(tok.lineno, tok.colno, node, this.parseSignature());
      } else if (tok.type === lexer.TOKEN_LEFT_BRACKET) {
        node = parseSubscript(this, node, tok);
      } else if (tok.type === lexer.TOKEN_OPERATOR && tok.value === '.') {
        this.nextToken();
        const val = this.nextToken();
        if (val.type !== lexer.TOKEN_SYMBOL)
          this.fail('expected name as lookup value, got ' + val.value, val.lineno, val.colno);
        node = new nodes.LookupVal(
          tok.lineno,
          tok.colno,
          node,
          new nodes.Literal(val.lineno, val.colno, val.value),
        );
      } else break;
    }
    return node;
  };
  const memberLookup = runtime.memberLookup;
  runtime.memberLookup = (obj, key) => {
    if (Array.isArray(key) && key.length === 4 && key[0] === SLICE)
      return pySlice(obj, key[1], key[2], key[3]);
    if (
      typeof key === 'number' &&
      key < 0 &&
      Number.isInteger(key) &&
      (Array.isArray(obj) || typeof obj === 'string')
    )
      return key + obj.length < 0 ? undefined : memberLookup(obj, key + obj.length);
    return memberLookup(obj, key);
  };
}
