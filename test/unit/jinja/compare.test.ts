import { describe, expect, it } from 'vitest';
import { renderTemplate } from '../../../src/workflows/expressions/jinja/index.js';
import { evaluateExpression } from '../../../src/workflows/expressions/index.js';

// What Python's Jinja2 printed for each (st2 renders with it; nunjucks used JavaScript's operators).
const RENDERED: Array<[string, string]> = [
  ["{{ '1' == 1 }}", 'False'],
  ['{{ [1] == [1] }}', 'True'],
  ["{{ {'a': 1} == {'a': 1} }}", 'True'],
  ['{{ 1 < 2 < 3 }}', 'True'],
  ['{{ 3 > 2 > 2 }}', 'False'],
  ['{{ true == 1 }}', 'True'],
  ['{{ [1,2] < [1,3] }}', 'True'],
  ['{{ 2.0 == 2 }}', 'True'],
  ['{{ none == none }}', 'True'],
  ["{{ 'b' > 'a' }}", 'True'],
];

const REFUSED: Array<[string, string]> = [
  ["{{ 'x' > 2 }}", "'>' not supported between instances of 'str' and 'int'"],
  ['{{ none < 1 }}', "'<' not supported between instances of 'NoneType' and 'int'"],
  ["{{ [1] < 'a' }}", "'<' not supported between instances of 'list' and 'str'"],
  ["{% if 'x' <= 2 %}y{% endif %}", "'<=' not supported between instances of 'str' and 'int'"],
];

describe("Jinja comparisons are Python's", () => {
  it.each(RENDERED)('%s prints %s', (template, printed) => {
    expect(renderTemplate(template, {})).toBe(printed);
  });
  it.each(REFUSED)('%s raises TypeError: %s', (template, reason) => {
    expect(() => renderTemplate(template, {})).toThrow(reason);
  });

  it("fails an orquesta expression with Jinja2's TypeError, in orquesta's words", () => {
    expect(() => evaluateExpression('{{ ctx().count > 2 }}', { ctx: { count: 'x' } })).toThrow(
      "JinjaEvaluationException: Unable to evaluate expression '{{ ctx().count > 2 }}'. TypeError: '>' not supported between instances of 'str' and 'int'",
    );
  });
});
