import { describe, expect, it } from 'vitest';
import { evaluateExpression } from '../../../src/workflows/expressions/index.js';

/**
 * Every YAQL evaluation of a workflow takes its whole context as `$` (and `ctx()` returns it): a
 * context holding a large published result must not make each expression pay for all of it.
 */
describe('YAQL beside a large workflow context', () => {
  const items = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      id: i,
      name: `item ${i}`,
      tags: ['a', 'b'],
      at: new Date(i * 1000),
    }));
  const ev = (expression: string, ctx: Record<string, unknown>) => evaluateExpression(expression, { ctx });

  it('reads one variable in about the same CPU time whatever else the context holds', () => {
    const ctx = { n: 1, big: items(100_000) };
    expect(ev('<% ctx().n + 1 %>', ctx)).toBe(2);
    const before = process.cpuUsage();
    for (let i = 0; i < 10; i++) {
      expect(ev('<% ctx().n + 1 %>', ctx)).toBe(2);
      expect(ev('<% $.n %>', ctx)).toBe(1);
    }
    const used = process.cpuUsage(before);
    // 20 evaluations: ~0.5 ms here; converting the 100,000 items each time took seconds.
    expect((used.user + used.system) / 1000).toBeLessThan(200);
  });

  it('gives the values it reads as before: lists, dicts, dates, keys and order', () => {
    const ctx = { n: 1, big: items(50), d: { b: [2, { c: null }], a: 1, u: undefined } };
    expect(ev('<% ctx().big.len() %>', ctx)).toBe(50);
    expect(ev('<% ctx().big[3].name %>', ctx)).toBe('item 3');
    expect(ev('<% ctx().big[2].at %>', ctx)).toBe('1970-01-01T00:00:02.000Z');
    expect(ev('<% ctx().big.where($.id < 2).select($.tags) %>', ctx)).toEqual([
      ['a', 'b'],
      ['a', 'b'],
    ]);
    expect(ev('<% ctx().d.keys() %>', ctx)).toEqual(['b', 'a', 'u']);
    expect(ev('<% ctx().d.values() %>', ctx)).toEqual([[2, { c: null }], 1, null]);
    expect(ev('<% ctx().d %>', ctx)).toEqual({ b: [2, { c: null }], a: 1, u: null });
    expect(ev('<% ctx().d = {b => [2, {c => null}], a => 1, u => null} %>', ctx)).toBe(true);
    expect(ev('<% ctx().d.get(a) %>', ctx)).toBe(1);
    expect(ev('<% ctx().d.containsKey(u) %>', ctx)).toBe(true);
    expect(ev('<% ctx(d).b[1].c %>', ctx)).toBeNull();
    expect(ev('<% ctx().keys() %>', ctx)).toEqual(['n', 'big', 'd']);
    expect(ev('<% dict(ctx().d.items().where($[0] != b)) %>', ctx)).toEqual({ a: 1, u: null });
    expect(ev('<% ctx().big.skip(1).take(2).select($.id) %>', ctx)).toEqual([1, 2]);
  });
});
