import { describe, expect, it } from 'vitest';
import { parseYaql, YaqlSyntaxError } from '../../../src/workflows/expressions/yaql/index.js';
import type { YaqlNode } from '../../../src/workflows/expressions/yaql/index.js';

/** A compact rendering of the tree so precedence is easy to read in assertions. */
function show(n: YaqlNode): string {
  switch (n.kind) {
    case 'constant':
      return JSON.stringify(n.value);
    case 'keyword':
      return n.name;
    case 'dollar':
      return n.name;
    case 'wrap':
      return show(n.inner);
    case 'call':
      return `${n.name}(${n.args.map(show).join(', ')})`;
    case 'method':
      return `${show(n.receiver)}.${n.name}(${n.args.map(show).join(', ')})`;
    case 'property':
      return `${show(n.receiver)}${n.nullSafe ? '?.' : '.'}${n.name}`;
    case 'member':
      return `${show(n.receiver)}.<${show(n.member)}>`;
    case 'binary':
      return `(${show(n.left)} ${n.op} ${show(n.right)})`;
    case 'unary':
      return `(${n.op} ${show(n.operand)})`;
    case 'index':
      return `${show(n.target)}[${n.args.map(show).join(', ')}]`;
    case 'list':
      return `[${n.items.map(show).join(', ')}]`;
    case 'map':
      return `{${n.entries.map(show).join(', ')}}`;
    case 'mapping':
      return `${show(n.key)} => ${show(n.value)}`;
  }
}

describe('parseYaql', () => {
  it.each([
    ['1 + 2 * 3', '(1 + (2 * 3))'],
    ['10 - 4 - 3', '((10 - 4) - 3)'],
    ['not 1 = 2', '(not (1 = 2))'],
    ['a or b and c', '(a or (b and c))'],
    ['-$.a[0]', '(- $.a[0])'],
    ['$.a.b.c', '$.a.b.c'],
    ['$x?.y', '$x?.y'],
    ['1 + 2 in [3]', '((1 + 2) in [3])'],
    ['"a" =~ "b" = true', '(("a" =~ "b") = true)'],
    ['let(x => 1) -> $x + 1', '(let(x => 1) -> ($x + 1))'],
    ['$l.where($ > 1).select($ * 2)', '$l.where(($ > 1)).select(($ * 2))'],
    ['{a => 1, "b" => [1, 2]}', '{a => 1, "b" => [1, 2]}'],
    ['7 mod 2 * 3', '((7 mod 2) * 3)'],
  ])('parses %s as %s', (expr, tree) => {
    expect(show(parseYaql(expr))).toBe(tree);
  });

  it('reads literals: ints, floats, both quote styles, escapes, true/false/null', () => {
    expect(show(parseYaql('[1, 2.5, \'a\', "b\\n", true, false, null]'))).toBe(
      '[1, 2.5, "a", "b\\n", true, false, null]',
    );
  });

  it('treats a name followed by a space and a parenthesis as a keyword, not a call', () => {
    expect(() => parseYaql('len ($)')).toThrow(YaqlSyntaxError);
    expect(show(parseYaql('len($)'))).toBe('len($)');
  });

  it.each([
    ['1 +', 3],
    ['(1', 2],
    ['"open', 0],
    ['1 # 2', 2],
    ['__x', 0],
    ['', 0],
    ['[a => 1, 2]', 10], // at ']', where yaql 3.2.0 finds it
  ])('rejects %j with YAQL_SYNTAX at position %i', (expr, pos) => {
    try {
      parseYaql(expr);
      expect.fail('should have thrown');
    } catch (err) {
      expect(err).toBeInstanceOf(YaqlSyntaxError);
      const e = err as YaqlSyntaxError;
      expect(e.code).toBe('YAQL_SYNTAX');
      expect(e.position).toBe(pos);
      expect(e.message).toContain(`"${expr}"`);
      expect(e.message).toContain(`position ${pos}`);
      expect(e.context).toMatchObject({ expression: expr, position: pos });
    }
  });
});
