/**
 * Jinja2's expression syntax where nunjucks' parser reads less: one-element tuples and trailing
 * commas (`(x,)`, `[1, 2,]`), a test's single argument without parentheses (`n is divisibleby 3`,
 * `x is sameas none`), and Python's number literals (`1e20`, `1.5e-3`, `1_000`). nunjucks failed
 * to parse the first two and read an exponent or underscore literal as an (undefined) variable.
 */
import nunjucks from 'nunjucks';
import { nunjucksMethod } from './patches.js';

interface Token {
  type: string;
  value: string;
  lineno: number;
  colno: number;
}
interface TokenizerThis {
  current(): string;
  currentStr(): string;
  _extractRegex(re: RegExp): RegExpMatchArray | null;
}
interface Node {
  typename: string;
  children: Node[];
  lineno: number;
  colno: number;
  pyTuple?: boolean;
  addChild(node: Node): void;
}
interface ParserThis {
  nextToken(): Token | null;
  peekToken(): Token;
  pushToken(tok: Token): void;
  skip(type: string): boolean;
  skipSymbol(name: string): boolean;
  fail(message: string, lineno?: number, colno?: number): never;
  parsePrimary(noPostfix?: boolean): Node;
  parsePostfix(node: Node): Node;
  parseExpression(): Node;
  parseCompare(): Node;
}
interface Lib {
  lexer: Record<string, string> & { lex(src: string, opts: unknown): object };
  parser: { Parser: { prototype: Record<string, unknown> } };
  nodes: Record<string, new (...args: unknown[]) => Node>;
}

const DIGITS = /^\d+(?:_\d+)*$/;
const EXPONENT_INT = /^(\d+(?:_\d+)*)[eE](\d+(?:_\d+)*)$/;
const EXPONENT_OPEN = /^\d+(?:_\d+)*[eE]$/;

/** Python's number literals: underscores between digits, an exponent on an integer or a float. */
function patchNumbers(lib: Lib): void {
  const tokenizer = Object.getPrototypeOf(lib.lexer.lex('', {})) as Record<string, unknown>;
  const nextToken = nunjucksMethod<(this: TokenizerThis) => Token | null>(tokenizer, 'nextToken', 'numbers');
  const { TOKEN_INT, TOKEN_FLOAT, TOKEN_SYMBOL } = lib.lexer;
  tokenizer.nextToken = function (this: TokenizerThis): Token | null {
    const tok = nextToken.call(this);
    if (!tok) return tok;
    if (tok.type === TOKEN_FLOAT) {
      // nunjucks stops a float at the exponent: `1.5` then the name `e` (`1.5e3`) or `e` and `-3`.
      if (this.current() === 'e' || this.current() === 'E') {
        const exp = this._extractRegex(/^[eE][+-]?\d+(?:_\d+)*/);
        if (exp) tok.value += exp[0];
      }
      tok.value = tok.value.replace(/_/g, '');
    } else if (tok.type === TOKEN_SYMBOL && /^\d/.test(tok.value)) {
      if (DIGITS.test(tok.value)) {
        tok.type = TOKEN_INT;
        tok.value = tok.value.replace(/_/g, '');
      } else if (EXPONENT_INT.test(tok.value)) {
        tok.type = TOKEN_FLOAT;
        tok.value = tok.value.replace(/_/g, '');
      } else if (EXPONENT_OPEN.test(tok.value)) {
        // `1e-3`: nunjucks split at the sign.
        const exp = this._extractRegex(/^[+-]\d+(?:_\d+)*/);
        if (exp) {
          tok.type = TOKEN_FLOAT;
          tok.value = (tok.value + exp[0]).replace(/_/g, '');
        }
      }
    }
    return tok;
  };
}

/** `(x,)` is a one-element tuple; `[1, 2,]`, `{'a': 1,}` and `(1, 2,)` allow the trailing comma. */
function patchAggregates(lib: Lib): void {
  const parser = lib.parser.Parser.prototype;
  nunjucksMethod(parser, 'parseAggregate', 'tuples');
  const { TOKEN_LEFT_PAREN, TOKEN_LEFT_BRACKET, TOKEN_LEFT_CURLY, TOKEN_RIGHT_PAREN } = lib.lexer;
  const { TOKEN_RIGHT_BRACKET, TOKEN_RIGHT_CURLY, TOKEN_COMMA, TOKEN_COLON } = lib.lexer;
  const { Group, Array: ArrayNode, Dict, Pair } = lib.nodes;
  const closing = new Set([TOKEN_RIGHT_PAREN, TOKEN_RIGHT_BRACKET, TOKEN_RIGHT_CURLY]);
  // nunjucks' parseAggregate, with a comma allowed before the closing bracket.
  parser.parseAggregate = function (this: ParserThis): Node | null {
    const tok = this.nextToken();
    if (!tok) return null;
    const make =
      tok.type === TOKEN_LEFT_PAREN
        ? Group
        : tok.type === TOKEN_LEFT_BRACKET
          ? ArrayNode
          : tok.type === TOKEN_LEFT_CURLY
            ? Dict
            : null;
    if (!make) return null;
    const node = new make(tok.lineno, tok.colno);
    for (;;) {
      if (closing.has(this.peekToken().type)) {
        this.nextToken();
        break;
      }
      if (node.children.length > 0) {
        if (!this.skip(TOKEN_COMMA))
          this.fail('parseAggregate: expected comma after expression', tok.lineno, tok.colno);
        if (closing.has(this.peekToken().type)) {
          if (make === Group) node.pyTuple = true;
          this.nextToken();
          break;
        }
      }
      if (make === Dict) {
        const key = this.parsePrimary();
        if (!this.skip(TOKEN_COLON))
          this.fail('parseAggregate: expected colon after dict key', tok.lineno, tok.colno);
        const value = this.parseExpression();
        node.addChild(new Pair(key.lineno, key.colno, key, value));
      } else node.addChild(this.parseExpression());
    }
    return node;
  };
}

/**
 * Jinja2's parse_test: after `is [not] name`, an argument that starts with a name, a string, a
 * number, `[` or `{` is the test's one argument (`else`, `or`, `and` end the test instead).
 */
function patchTests(lib: Lib): void {
  const parser = lib.parser.Parser.prototype;
  nunjucksMethod(parser, 'parseIs', 'tests');
  const { TOKEN_SYMBOL, TOKEN_STRING, TOKEN_INT, TOKEN_FLOAT, TOKEN_BOOLEAN, TOKEN_NONE } = lib.lexer;
  const { TOKEN_LEFT_BRACKET, TOKEN_LEFT_CURLY, TOKEN_LEFT_PAREN } = lib.lexer;
  const { Is, Not, Symbol: SymbolNode, FunCall, NodeList } = lib.nodes;
  const argStarts = new Set([
    TOKEN_SYMBOL,
    TOKEN_STRING,
    TOKEN_INT,
    TOKEN_FLOAT,
    TOKEN_BOOLEAN,
    TOKEN_NONE,
    TOKEN_LEFT_BRACKET,
    TOKEN_LEFT_CURLY,
  ]);
  const ends = new Set(['else', 'or', 'and']);
  parser.parseIs = function (this: ParserThis): Node {
    let node = this.parseCompare();
    if (!this.skipSymbol('is')) return node;
    const not = this.skipSymbol('not');
    const nameTok = this.peekToken();
    let test: Node;
    if (nameTok.type !== TOKEN_SYMBOL) test = this.parseCompare();
    else {
      this.nextToken();
      test = new SymbolNode(nameTok.lineno, nameTok.colno, nameTok.value);
      const next = this.peekToken();
      if (next.type === TOKEN_LEFT_PAREN) test = this.parsePostfix(test);
      else if (argStarts.has(next.type) && !(next.type === TOKEN_SYMBOL && ends.has(next.value))) {
        if (next.type === TOKEN_SYMBOL && next.value === 'is')
          this.fail('You cannot chain multiple tests with is');
        const arg = this.parsePrimary();
        test = new FunCall(nameTok.lineno, nameTok.colno, test, new NodeList(arg.lineno, arg.colno, [arg]));
      }
    }
    node = new Is(node.lineno, node.colno, node, test);
    return not ? new Not(node.lineno, node.colno, node) : node;
  };
}

/** Installs the parser changes. Only installNunjucksPatches calls it, once. */
export function patchPythonSyntax(): void {
  const lib = nunjucks as unknown as Lib;
  patchNumbers(lib);
  patchAggregates(lib);
  patchTests(lib);
}
