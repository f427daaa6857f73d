import { afterEach, describe, expect, it } from 'vitest';
import { renderTemplate } from '../../../src/workflows/expressions/jinja/index.js';

/**
 * Templates are written by anyone who may run an action (st2 renders `{{ }}` in live parameters),
 * so none may reach JavaScript's constructors: through them a template would run code in the server.
 */
const MARKER = '__squallJinjaSandboxProbe';
const code = `return (globalThis.${MARKER} = 'reached')`;

const escapes = [
  `{{ range.constructor("${code}")() }}`,
  `{{ cycler.constructor("${code}")() }}`,
  `{{ "".constructor.constructor("${code}")() }}`,
  `{{ [].constructor.constructor("${code}")() }}`,
  `{{ body.constructor.constructor("${code}")() }}`,
  `{{ range["constructor"]("${code}")() }}`,
  `{% set f = joiner.constructor %}{{ f("${code}")() }}`,
  `{{ constructor.getOwnPropertyDescriptor(constructor.getPrototypeOf(range), "constructor").value("${code}")() }}`,
  `{{ ([range]|map(attribute="constructor"))[0]("${code}")() }}`,
  `{{ ([range]|map(attribute="constructor")|first)("${code}")() }}`,
  `{% for g in [range]|groupby("constructor") %}{{ g.grouper("${code}")() }}{% endfor %}`,
  `{{ range.__proto__.constructor("${code}")() }}`,
];

describe('templates cannot reach JavaScript', () => {
  afterEach(() => {
    delete (globalThis as Record<string, unknown>)[MARKER];
  });

  it.each(escapes)('%s runs no code', (template) => {
    let out = '';
    try {
      out = renderTemplate(template, { body: { x: 1 } });
    } catch (err) {
      expect((err as Error).message).toMatch(/Unable to call|not allowed/);
    }
    expect(out).not.toContain('reached');
    expect((globalThis as Record<string, unknown>)[MARKER]).toBeUndefined();
  });

  it('still reads data that uses those names, and what templates legitimately call', () => {
    const body = JSON.parse('{"constructor": "c", "prototype": "p", "x": 1}');
    expect(renderTemplate('{{ body.constructor }} {{ body["prototype"] }} {{ body.x }}', { body })).toBe(
      'c p 1',
    );
    expect(
      renderTemplate('{{ "a b".split() }} {{ range(3) | list }} {{ {"k": 1}.items() | list }}', {}),
    ).toBe("['a', 'b'] [0, 1, 2] [('k', 1)]");
    expect(
      renderTemplate('{% macro m() %}<{{ caller() }}>{% endmacro %}{% call m() %}x{% endcall %}', {}),
    ).toContain('<');
  });
});
