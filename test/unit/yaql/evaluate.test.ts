import { describe, expect, it } from 'vitest';
import { runBoundedAsync } from '../../support/bounded.js';
import {
  collectYaqlReferences,
  evaluateYaql,
  YaqlEvaluationError,
} from '../../../src/workflows/expressions/yaql/index.js';

const data = {
  n: 5,
  l: [3, 1, 4, 1, 5],
  d: { a: 1, b: 'two', e: { x: 10 } },
  people: [
    { name: 'ann', age: 30 },
    { name: 'bob', age: 20 },
  ],
};
const ev = (expr: string, functions?: Record<string, (...args: unknown[]) => unknown>) =>
  evaluateYaql(expr, { data, functions });

describe('evaluateYaql', () => {
  it('binds $ to the data and walks it with . and []', () => {
    expect(ev('$')).toEqual(data);
    expect(ev('$.d.e.x')).toBe(10);
    expect(ev('$.l[-1]')).toBe(5);
    expect(ev("$.d['b']")).toBe('two');
    expect(ev('$.people.name')).toEqual(['ann', 'bob']);
  });

  it('does integer division on ints and true division when a float is involved, like Python', () => {
    expect(ev('7 / 2')).toBe(3);
    expect(ev('-7 / 2')).toBe(-4);
    expect(ev('7.0 / 2')).toBe(3.5);
    expect(ev('-7 mod 3')).toBe(2);
    expect(ev('str(2.0)')).toBe('2.0');
    expect(ev('str(1.5 + 1.5)')).toBe('3.0');
  });

  it('chains queries with $ rebound to each item inside the lambda', () => {
    expect(ev('$.l.where($ > 2).select($ * 10)')).toEqual([30, 40, 50]);
    expect(ev('$.people.where($.age > 25).select($.name).first()')).toBe('ann');
    expect(ev('$.l.orderBy($).distinct()')).toEqual([1, 3, 4, 5]);
    expect(ev('let(min => 3) -> $.l.where($ >= $min).sum()')).toBe(12);
  });

  it('builds lists and dicts in both literal and function forms and returns plain JS', () => {
    expect(ev('{a => 1, b => [1, 2]}')).toEqual({ a: 1, b: [1, 2] });
    expect(ev('dict(a => 1)')).toEqual({ a: 1 });
    expect(ev('{1 => "one"}')).toEqual({ '1': 'one' });
    expect(ev('list(1, 2)')).toEqual([1, 2]);
    expect(ev('set(1, 2, 2)')).toEqual([1, 2]);
    expect(ev('$.d.set(z => 26).z')).toBe(26);
  });

  it('renders values with str() as YAQL does (Python repr inside containers)', () => {
    expect(ev('str(null)')).toBe('null');
    expect(ev('str([1, "a", null])')).toBe("(1, 'a', None)");
    expect(ev('str({a => true})')).toBe("{'a': True}");
    expect(ev('"n=" + str($.n)')).toBe('n=5');
  });

  it('lets caller functions shadow builtins and receive plain arguments, named ones last', () => {
    const seen: unknown[][] = [];
    const fns = {
      len: () => 'mine',
      st2kv: (...args: unknown[]) => {
        seen.push(args);
        return { v: 1 };
      },
    };
    expect(ev('len($.l)', fns)).toBe('mine');
    expect(ev("st2kv('system.k', decrypt => true).v", fns)).toBe(1);
    expect(seen).toEqual([['system.k', { decrypt: true }]]);
    expect(ev('$.d.st2kv()', fns)).toEqual({ v: 1 });
    expect(seen[1]).toEqual([{ a: 1, b: 'two', e: { x: 10 } }]);
  });

  it('supports orquesta-style ctx() given by the caller', () => {
    const vars: Record<string, unknown> = { host: 'web1', ports: [22, 80] };
    const ctx = (name?: unknown) => (name === undefined ? vars : vars[String(name)]);
    expect(evaluateYaql('ctx(host) + ":" + str(ctx().ports[1])', { functions: { ctx } })).toBe('web1:80');
  });

  it('fails with YAQL_EVAL naming the expression and the reason', () => {
    const cases: [string, RegExp][] = [
      ['$.d.missing', /key "missing"/],
      ['$.l[10]', /out of range/],
      ['1 + "a"', /#operator_\+/],
      ['unknownFn()', /unknown function "unknownFn"/],
      ['$.l.nope()', /unknown method "nope"/],
      ['keys($.d)', /unknown function "keys"/],
      ['1 / 0', /division by zero/],
      ['[].first()', /empty/],
      ['$.l.where($ > 1)[0]', /cannot index/],
    ];
    for (const [expr, reason] of cases) {
      let caught: unknown;
      try {
        ev(expr);
      } catch (err) {
        caught = err;
      }
      expect(caught, expr).toBeInstanceOf(YaqlEvaluationError);
      const e = caught as YaqlEvaluationError;
      expect(e.code).toBe('YAQL_EVAL');
      expect(e.message).toContain(`"${expr}"`);
      expect(e.message).toMatch(reason);
      expect(e.context.expression).toBe(expr);
    }
  });

  it('wraps a failing caller function and keeps its error as the cause', () => {
    const boom = new Error('variable "x" is undefined');
    try {
      evaluateYaql('ctx(x)', {
        functions: {
          ctx: () => {
            throw boom;
          },
        },
      });
      expect.fail('should have thrown');
    } catch (err) {
      expect(err).toBeInstanceOf(YaqlEvaluationError);
      expect((err as Error).message).toContain('variable "x" is undefined');
      expect((err as Error & { cause?: unknown }).cause).toBe(boom);
    }
  });

  it('stops an infinite sequence that is never limited instead of hanging', () => {
    expect(ev('sequence().take(3)')).toEqual([0, 1, 2]);
    expect(() => ev('sequence()')).toThrow(/infinite sequence/);
  });

  it('handles regular expressions with Python syntax', () => {
    expect(ev('regex("(?P<h>\\\\w+)@(\\\\w+)").search("to bob@host", $3.value)')).toBe('host');
    expect(ev('"a1b22".replace(regex("(\\\\d+)"), "<\\\\1>")')).toBe('a<1>b<22>');
    expect(ev('"web1" =~ "^web\\\\d$"')).toBe(true);
  });

  it('tests (=~, !~, matches) with re.search semantics on the linear-time entry point', () => {
    // Python's `$` also matches before a final newline, `.` everything but `\n`.
    expect(evaluateYaql('$.s =~ "^web\\\\d$"', { data: { s: 'web1\n' } })).toBe(true);
    expect(evaluateYaql('$.s !~ "a.b"', { data: { s: 'a\rb' } })).toBe(false);
    expect(ev('regex("B", true).matches("abc")')).toBe(true);
    expect(ev('"abc".matches("^b")')).toBe(false);
    expect(evaluateYaql('$.s =~ regex("^b$", false, true)', { data: { s: 'a\nb' } })).toBe(true);
    expect(() => ev('"a" =~ "("')).toThrow(/invalid regular expression/);
  });

  it('answers a nested quantifier on a crafted value in linear time', async () => {
    const out = await runBoundedAsync(
      `import { evaluateYaql } from './src/workflows/expressions/yaql/index.ts';
      const data = { s: 'a'.repeat(50) + '!' };
      console.log(JSON.stringify([
        evaluateYaql('$.s =~ "(a+)+$"', { data }),
        evaluateYaql('$.s !~ regex("(A|AA)+$", true)', { data }),
        evaluateYaql('regex("(a+)+$").matches($.s)', { data }),
        evaluateYaql('regex("(a+)+$").search($.s)', { data }),
        evaluateYaql('regex("(A+)+$", ignoreCase => true).searchAll($.s)', { data }),
        evaluateYaql('regex("(a+)+$").replaceBy($.s, "x")', { data }),
        evaluateYaql('regex("(A+)+$", ignoreCase => true).replace($.s, "x")', { data }),
        evaluateYaql('regex("(A+)+$", ignoreCase => true).split($.s)', { data }),
      ]));`,
      30_000,
      false,
    );
    const s = 'a'.repeat(50) + '!';
    expect(JSON.parse(out)).toEqual([false, true, false, null, [], s, s, [s]]);
  }, 45_000);
});

describe('collectYaqlReferences', () => {
  it('lists called functions, methods and the ctx variables read', () => {
    const refs = collectYaqlReferences(
      "ctx(a) + ctx('b') + ctx().c.d + len(ctx()['e']) + $.x.where($ > ctx(\"f\")).count()",
    );
    expect(refs.functions).toEqual(['ctx', 'len']);
    expect(refs.methods).toEqual(['count', 'where']);
    expect(refs.variables).toEqual(['a', 'b', 'c', 'e', 'f']);
  });

  it('throws the syntax error of an unreadable expression', () => {
    expect(() => collectYaqlReferences('ctx(')).toThrow(/YAQL expression "ctx\(" is not valid/);
  });
});
