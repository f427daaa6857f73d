import { YaqlSyntaxError } from './errors.js';
import { YFloat } from './values.js';

/*
 * Lexer and Pratt parser for YAQL 3 with the standard operator table (yaql/language/factory.py),
 * from the tightest binding to the loosest:
 *   .  ?.          (member access / method call)
 *   [ ]            (indexer)
 *   unary + -
 *   =~ !~
 *   * / mod
 *   + -
 *   > < >= <= != = in
 *   not            (prefix)
 *   and
 *   or
 *   ->             (right associative)
 * `=>` is only valid inside argument lists, list/dict literals (a named argument / mapping rule).
 * A function call is a name immediately followed by `(` (`len ($)` is not a call, as in YAQL).
 */

export interface Pos {
  pos: number;
}
export type YaqlNode =
  | ({ kind: 'constant'; value: string | number | boolean | null | YFloat } & Pos)
  | ({ kind: 'keyword'; name: string } & Pos)
  | ({ kind: 'dollar'; name: string } & Pos)
  | ({ kind: 'call'; name: string; args: YaqlNode[] } & Pos)
  | ({ kind: 'method'; receiver: YaqlNode; name: string; args: YaqlNode[]; nullSafe: boolean } & Pos)
  | ({ kind: 'property'; receiver: YaqlNode; name: string; nullSafe: boolean } & Pos)
  | ({ kind: 'member'; receiver: YaqlNode; member: YaqlNode; nullSafe: boolean } & Pos)
  | ({ kind: 'binary'; op: string; left: YaqlNode; right: YaqlNode } & Pos)
  | ({ kind: 'unary'; op: string; operand: YaqlNode } & Pos)
  | ({ kind: 'index'; target: YaqlNode; args: YaqlNode[] } & Pos)
  | ({ kind: 'list'; items: YaqlNode[] } & Pos)
  | ({ kind: 'map'; entries: YaqlNode[] } & Pos)
  | ({ kind: 'mapping'; key: YaqlNode; value: YaqlNode } & Pos)
  | ({ kind: 'wrap'; inner: YaqlNode } & Pos);

type TokType = 'number' | 'string' | 'func' | 'dollar' | 'word' | 'op' | 'punct' | 'eof' | 'illegal';
interface Token {
  type: TokType;
  text: string;
  value?: unknown;
  pos: number;
  /** On an `illegal` token: the lexical error, raised when the parser reaches it. */
  error?: YaqlSyntaxError;
}

const WORD_OPS = new Set(['and', 'or', 'not', 'in', 'mod']);
const KEYWORD_VALUES: Record<string, boolean | null> = { true: true, false: false, null: null };
// Longest first, as ply orders string rules.
const SYMBOL_OPS = ['?.', '->', '=>', '=~', '!~', '!=', '>=', '<=', '.', '+', '-', '*', '/', '>', '<', '='];
const PUNCT = '()[]{},';

const ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

function decodeEscapes(raw: string, expression: string, pos: number): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i];
    if (ch !== '\\' || i === raw.length - 1) {
      out += ch;
      continue;
    }
    const n = raw[i + 1];
    if (n in ESCAPES) {
      out += ESCAPES[n];
      i++;
    } else if (n === 'x' || n === 'u' || n === 'U') {
      const len = n === 'x' ? 2 : n === 'u' ? 4 : 8;
      const hex = raw.slice(i + 2, i + 2 + len);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) {
        throw new YaqlSyntaxError(expression, pos + i, `bad \\${n} escape in string literal`);
      }
      out += String.fromCodePoint(parseInt(hex, 16));
      i += 1 + len;
    } else if (/[0-7]/.test(n)) {
      const m = /^[0-7]{1,3}/.exec(raw.slice(i + 1)) as RegExpExecArray;
      out += String.fromCodePoint(parseInt(m[0], 8));
      i += m[0].length;
    } else {
      // Python keeps unknown escapes as written (e.g. '\d' in a regex stays '\d').
      out += ch;
    }
  }
  return out;
}

/**
 * The tokens of an expression. A lexical error ends the list with an `illegal` token rather than
 * being thrown: yaql's parser pulls tokens lazily, so a grammar error before that point is the
 * one it reports (`<% x` fails on "<", not on "%").
 */
function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  let start = 0;
  try {
    lex(expression, tokens, (p) => (start = p));
  } catch (err) {
    if (!(err instanceof YaqlSyntaxError)) throw err;
    tokens.push({ type: 'illegal', text: expression[start], pos: start, error: err });
  }
  return tokens;
}

function lex(expression: string, tokens: Token[], at: (start: number) => void): void {
  const s = expression;
  let i = 0;
  const isWordStart = (c: string) => /[\p{L}_]/u.test(c);
  const isWord = (c: string) => /[\p{L}\p{N}_]/u.test(c);
  while (i < s.length) {
    const c = s[i];
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      i++;
      continue;
    }
    const start = i;
    at(start);
    if (c === '$') {
      i++;
      while (i < s.length && isWord(s[i])) i++;
      tokens.push({ type: 'dollar', text: s.slice(start, i), pos: start });
      continue;
    }
    if (/[0-9]/.test(c)) {
      const m = /^\d+(\.?\d+)?/.exec(s.slice(i)) as RegExpExecArray;
      let text = m[0];
      // `\b\d+(\.?\d+)?\b`: a number must end at a word boundary.
      if (i + text.length < s.length && isWord(s[i + text.length])) {
        throw new YaqlSyntaxError(
          expression,
          start,
          `unexpected character "${s[i + text.length]}" after number ${text}`,
        );
      }
      if (i > 0 && isWord(s[i - 1])) {
        throw new YaqlSyntaxError(expression, start, 'a number cannot follow a name without a space');
      }
      i += text.length;
      let value: number | YFloat;
      if (text.includes('.')) {
        const f = Number(text);
        value = Number.isInteger(f) ? new YFloat(f) : f;
      } else {
        value = Number(text);
      }
      text = m[0];
      tokens.push({ type: 'number', text, value, pos: start });
      continue;
    }
    if (c === "'" || c === '"' || c === '`') {
      i++;
      let raw = '';
      let closed = false;
      while (i < s.length) {
        if (s[i] === '\\' && i + 1 < s.length) {
          raw += s[i] + s[i + 1];
          i += 2;
          continue;
        }
        if (s[i] === c) {
          closed = true;
          i++;
          break;
        }
        raw += s[i++];
      }
      if (!closed) throw new YaqlSyntaxError(expression, start, 'unterminated string literal');
      const value = c === '`' ? raw.replace(/\\`/g, '`') : decodeEscapes(raw, expression, start + 1);
      tokens.push({ type: 'string', text: s.slice(start, i), value, pos: start });
      continue;
    }
    if (isWordStart(c)) {
      while (i < s.length && isWord(s[i])) i++;
      const word = s.slice(start, i);
      if (s[i] === '(') {
        i++;
        tokens.push({ type: 'func', text: word, pos: start });
        continue;
      }
      if (word.startsWith('__')) {
        throw new YaqlSyntaxError(expression, start, `names starting with "__" are reserved ("${word}")`);
      }
      if (WORD_OPS.has(word)) tokens.push({ type: 'op', text: word, pos: start });
      else if (word in KEYWORD_VALUES)
        tokens.push({ type: 'word', text: word, value: KEYWORD_VALUES[word], pos: start });
      else tokens.push({ type: 'word', text: word, pos: start });
      continue;
    }
    const op = SYMBOL_OPS.find((o) => s.startsWith(o, i));
    if (op) {
      tokens.push({ type: 'op', text: op, pos: start });
      i += op.length;
      continue;
    }
    if (PUNCT.includes(c)) {
      tokens.push({ type: 'punct', text: c, pos: start });
      i++;
      continue;
    }
    throw new YaqlSyntaxError(expression, start, `unexpected character "${c}"`);
  }
  tokens.push({ type: 'eof', text: '', pos: s.length });
}

// Binding powers: higher binds tighter.
const BINARY_BP: Record<string, number> = {
  '->': 10,
  or: 20,
  and: 30,
  '>': 50,
  '<': 50,
  '>=': 50,
  '<=': 50,
  '!=': 50,
  '=': 50,
  in: 50,
  '+': 60,
  '-': 60,
  '*': 70,
  '/': 70,
  mod: 70,
  '=~': 80,
  '!~': 80,
  '[': 100,
  '.': 110,
  '?.': 110,
};
const NOT_BP = 40;
const UNARY_BP = 90;

class Parser {
  private i = 0;
  constructor(
    private readonly expression: string,
    private readonly tokens: Token[],
  ) {}

  private peek(): Token {
    const t = this.tokens[this.i];
    if (t.error) throw t.error;
    return t;
  }
  private next(): Token {
    const t = this.peek();
    this.i++;
    return t;
  }
  private fail(tok: Token, reason?: string): never {
    const what = tok.type === 'eof' ? 'end of expression' : `"${tok.text}"`;
    // yaql's own words (its ply parser's p_error), which st2 reports.
    const yaql =
      tok.type === 'eof'
        ? 'Parse error: unexpected end of statement'
        : `Parse error: unexpected '${tok.text}' at position ${tok.pos} of expression '${this.expression}'`;
    throw new YaqlSyntaxError(this.expression, tok.pos, reason ?? `unexpected ${what}`, yaql);
  }
  private expect(text: string): Token {
    const t = this.next();
    if (t.text !== text || (t.type !== 'punct' && t.type !== 'op'))
      this.fail(t, `expected "${text}" but found ${t.type === 'eof' ? 'end of expression' : `"${t.text}"`}`);
    return t;
  }

  parseAll(): YaqlNode {
    if (this.peek().type === 'eof') this.fail(this.peek(), 'the expression is empty');
    const node = this.parseExpr(0);
    const t = this.peek();
    if (t.type !== 'eof') this.fail(t);
    return node;
  }

  parseExpr(minBp: number): YaqlNode {
    let left = this.parsePrefix();
    for (;;) {
      const t = this.peek();
      let op: string | undefined;
      if (t.type === 'op' && t.text in BINARY_BP) op = t.text;
      else if (t.type === 'punct' && t.text === '[') op = '[';
      if (!op) break;
      const bp = BINARY_BP[op];
      if (bp < minBp) break;
      this.next();
      if (op === '[') {
        const args = this.parseArgs(']');
        left = { kind: 'index', target: left, args, pos: t.pos };
      } else if (op === '.' || op === '?.') {
        left = this.parseMember(left, op === '?.', t);
      } else {
        // `->` is right associative: parse its right side at the same level.
        const right = this.parseExpr(op === '->' ? bp : bp + 1);
        left = { kind: 'binary', op, left, right, pos: t.pos };
      }
    }
    return left;
  }

  private parseMember(receiver: YaqlNode, nullSafe: boolean, opTok: Token): YaqlNode {
    const t = this.peek();
    if (t.type === 'func') {
      this.next();
      const args = this.parseArgs(')');
      return { kind: 'method', receiver, name: t.text, args, nullSafe, pos: t.pos };
    }
    if (t.type === 'word' && t.value === undefined) {
      this.next();
      return { kind: 'property', receiver, name: t.text, nullSafe, pos: t.pos };
    }
    // Anything else parses (YAQL's grammar allows it) but cannot be evaluated as a member.
    const member = this.parseExpr(BINARY_BP['.'] + 1);
    return { kind: 'member', receiver, member, nullSafe, pos: opTok.pos };
  }

  private parsePrefix(): YaqlNode {
    const t = this.next();
    switch (t.type) {
      case 'number':
      case 'string':
        return { kind: 'constant', value: t.value as string | number | YFloat, pos: t.pos };
      case 'word':
        if (t.value !== undefined) return { kind: 'constant', value: t.value as boolean | null, pos: t.pos };
        return { kind: 'keyword', name: t.text, pos: t.pos };
      case 'dollar':
        return { kind: 'dollar', name: t.text, pos: t.pos };
      case 'func': {
        const args = this.parseArgs(')');
        return { kind: 'call', name: t.text, args, pos: t.pos };
      }
      case 'op':
        if (t.text === 'not')
          return { kind: 'unary', op: 'not', operand: this.parseExpr(NOT_BP), pos: t.pos };
        if (t.text === '-' || t.text === '+')
          return { kind: 'unary', op: t.text, operand: this.parseExpr(UNARY_BP), pos: t.pos };
        return this.fail(t);
      case 'punct':
        if (t.text === '(') {
          const inner = this.parseExpr(0);
          this.expect(')');
          return { kind: 'wrap', inner, pos: t.pos };
        }
        if (t.text === '[') return { kind: 'list', items: this.parseArgs(']'), pos: t.pos };
        if (t.text === '{') return { kind: 'map', entries: this.parseArgs('}'), pos: t.pos };
        return this.fail(t);
      default:
        return this.fail(t);
    }
  }

  /** Comma separated arguments, each a value or `key => value`; consumes the closing token. */
  private parseArgs(close: string): YaqlNode[] {
    const args: YaqlNode[] = [];
    if (this.peek().type === 'punct' && this.peek().text === close) {
      this.next();
      return args;
    }
    let sawNamed = false;
    for (;;) {
      const value = this.parseExpr(0);
      const t = this.peek();
      if (t.type === 'op' && t.text === '=>') {
        this.next();
        const dest = this.parseExpr(0);
        args.push({ kind: 'mapping', key: value, value: dest, pos: t.pos });
        sawNamed = true;
      } else {
        // yaql's grammar finds out at the token after it.
        if (sawNamed) this.fail(t, 'a positional argument cannot follow a named one (key => value)');
        args.push(value);
      }
      const sep = this.next();
      if (sep.type === 'punct' && sep.text === close) return args;
      if (!(sep.type === 'punct' && sep.text === ','))
        this.fail(
          sep,
          `expected "," or "${close}" but found ${sep.type === 'eof' ? 'end of expression' : `"${sep.text}"`}`,
        );
    }
  }
}

export function parse(expression: string): YaqlNode {
  if (typeof expression !== 'string') {
    throw new YaqlSyntaxError(String(expression), 0, 'the expression must be a string');
  }
  return new Parser(expression, tokenize(expression)).parseAll();
}
