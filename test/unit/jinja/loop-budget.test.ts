import { describe, expect, it } from 'vitest';
import { MAX_LOOP_ITERATIONS, renderTemplate } from '../../../src/workflows/expressions/jinja/index.js';

// A loop that builds nothing was priced nothing, and one over data (a webhook body, a list `set`
// once) reached no deadline check: two nested loops over 3,000 items in a rule's criteria or an
// action's parameters held the whole service 25 s, three nested ones for hours.
describe('loop iterations of one render', () => {
  const reasonOf = (template: string, context: Record<string, unknown>, deadline?: number): string => {
    try {
      renderTemplate(template, context, deadline === undefined ? {} : { deadline });
    } catch (err) {
      return (err as Error).message;
    }
    return 'rendered';
  };

  it('refuses a loop that would take the render past MAX_LOOP_ITERATIONS before it runs, also with no deadline', () => {
    const items = new Array<number>(MAX_LOOP_ITERATIONS + 1).fill(0);
    expect(reasonOf('{% for a in items %}{% endfor %}done', { items })).toContain(
      `a loop of ${(MAX_LOOP_ITERATIONS + 1).toLocaleString('en-US')} items would run the render past ${MAX_LOOP_ITERATIONS.toLocaleString('en-US')} loop iterations`,
    );
  });

  it('counts the iterations of nested loops together, while loops within the budget render as before', () => {
    const list = (n: number) => Array.from({ length: n }, (_, i) => i);
    const nested = '{% for a in x %}{% for b in x %}{% endfor %}{% endfor %}{{ x | length }}';
    // 1,001 + 1,001 × 1,001 iterations
    expect(reasonOf(nested, { x: list(1001) })).toContain('loop iterations, the most one render may run');
    expect(renderTemplate(nested, { x: list(300) })).toBe('300');
    expect(
      renderTemplate('{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}', { d: { a: 1, b: 2 } }),
    ).toBe('a=1;b=2;');
  });

  it('stops a render past its deadline as its next loop starts, though nothing is output', () => {
    const reason = reasonOf(
      '{% for a in x %}{% for b in x %}{% endfor %}{% endfor %}',
      { x: [1, 2] },
      Date.now() - 1,
    );
    expect(reason).toContain('rendering took longer than its time limit and was stopped');
  });
});
