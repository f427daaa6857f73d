import { describe, expect, it } from 'vitest';
import {
  JinjaRenderError,
  evaluateJinja,
  findTemplateVariables,
  hasJinja,
  renderTemplate,
} from '../../../src/workflows/expressions/jinja/index.js';

const ctx = {
  trigger: {
    body: { foo: 'bar', name: 'test' },
    headers: { 'X-Custom': 'yes' },
    flag: true,
    off: false,
    nothing: null,
    list: [1, 2],
    quote: "it's",
    n: 3.5,
  },
};

describe('renderTemplate prints values as Python str() does (st2 renders with Jinja2)', () => {
  it.each([
    ['echo "{{trigger.body}}"', `echo "{'foo': 'bar', 'name': 'test'}"`],
    ['{{ trigger.list }}', '[1, 2]'],
    ['{{ trigger.flag }} {{ trigger.off }}', 'True False'],
    ['{{ trigger.nothing }}', 'None'],
    ['{{ [trigger.quote, none, true] }}', `["it's", None, True]`],
    ['{{ {"a": {"b": [1, "x"]}} }}', `{'a': {'b': [1, 'x']}}`],
    ['{{ trigger.n }}', '3.5'],
    ['{{ {} }} {{ [] }}', '{} []'],
    ["{{ 'line\\nnext' }}", 'line\nnext'],
    ["{{ ['a\\nb'] }}", "['a\\nb']"],
  ])('%s', (template, expected) => {
    expect(renderTemplate(template, ctx)).toBe(expected);
  });

  it('renders Python literals True, False and None', () => {
    expect(renderTemplate('{{ True }}/{{ False }}/{{ None }}/{{ True and not False }}', {})).toBe(
      'True/False/None/True',
    );
  });

  it('renders undefined names as empty strings and does not throw on attributes of undefined', () => {
    expect(renderTemplate('[{{ missing }}][{{ missing.deeper.still }}][{{ trigger.body.nope }}]', ctx)).toBe(
      '[][][]',
    );
  });

  it('leaves strings without Jinja untouched', () => {
    expect(renderTemplate('plain {text}', ctx)).toBe('plain {text}');
  });

  it('supports bracket lookups with keys that are not identifiers', () => {
    expect(renderTemplate("{{ trigger.headers['X-Custom'] }}", ctx)).toBe('yes');
  });

  it('supports blocks, loops and whitespace control with trim_blocks like st2', () => {
    const t =
      '{% for x in trigger.list %}\n{{ x }},\n{% endfor %}\n{%- if trigger.flag %} on{% else %} off{% endif %}';
    expect(renderTemplate(t, ctx)).toBe('1,\n2,\n on');
    expect(renderTemplate('a  {{- "b" -}}  c', {})).toBe('abc');
  });

  it('supports Python dict methods items(), keys(), values() and get()', () => {
    const c = { d: { a: 1, b: 2 } };
    expect(renderTemplate('{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}', c)).toBe('a=1;b=2;');
    expect(renderTemplate('{{ d.keys() | list }} {{ d.values() | list }}', c)).toBe("['a', 'b'] [1, 2]");
    expect(renderTemplate("{{ d.get('a') }} {{ d.get('z', 'dflt') }} {{ d.get('z') }}", c)).toBe(
      '1 dflt None',
    );
  });

  it('lets a payload key named like a dict method win over the method', () => {
    expect(renderTemplate('{{ body.items[0] }}', { body: { items: ['first'] } })).toBe('first');
  });

  it('supports Python string methods', () => {
    const c = { s: '  a b  c ' };
    expect(renderTemplate('{{ s.split() }}', c)).toBe("['a', 'b', 'c']");
    expect(renderTemplate("{{ 'a,b,c'.split(',', 1) }}", c)).toBe("['a', 'b,c']");
    expect(renderTemplate('[{{ s.strip() }}]', c)).toBe('[a b  c]');
    expect(renderTemplate("{{ 'aXbXc'.replace('X', '-') }}", c)).toBe('a-b-c');
    expect(
      renderTemplate("{{ 'Hello'.lower() }} {{ 'hello'.upper() }} {{ 'abc'.startswith('ab') }}", c),
    ).toBe('hello HELLO True');
    expect(renderTemplate("{{ '{}-{}'.format(1, 'x') }} {{ ', '.join(['a', 'b']) }}", c)).toBe('1-x a, b');
  });

  it('keeps Python string escapes such as \\d in regular expressions', () => {
    expect(renderTemplate("{{ 'abc123' | regex_replace('\\d+', '#') }}", {})).toBe('abc#');
  });

  it('raises JinjaRenderError naming the template and the reason', () => {
    let caught: unknown;
    try {
      renderTemplate('{{ x | no_such_filter }}', {}, { source: 'parameter "cmd"' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(JinjaRenderError);
    const e = caught as JinjaRenderError;
    expect(e.code).toBe('JINJA_RENDER');
    expect(e.message).toContain('{{ x | no_such_filter }}');
    expect(e.message).toContain('parameter "cmd"');
    expect(e.message).toMatch(/no_such_filter/);
  });

  it('raises JinjaRenderError on a syntax error', () => {
    expect(() => renderTemplate('{% if %}', {})).toThrow(JinjaRenderError);
  });

  it('calls functions given in options', () => {
    expect(
      renderTemplate("{{ ctx('who') }}", {}, { functions: { ctx: (n: string) => `value of ${n}` } }),
    ).toBe('value of who');
  });
});

describe('evaluateJinja (Orquesta semantics)', () => {
  it('returns native values for a single expression', () => {
    expect(evaluateJinja('{{ trigger.body }}', ctx)).toEqual({ foo: 'bar', name: 'test' });
    expect(evaluateJinja('{{ trigger.list }}', ctx)).toEqual([1, 2]);
    expect(evaluateJinja('  {{ trigger.list | length + 1 }}  ', ctx)).toBe(3);
    expect(evaluateJinja('{{ trigger.flag }}', ctx)).toBe(true);
    expect(evaluateJinja('{{ trigger.nothing }}', ctx)).toBeNull();
    expect(evaluateJinja('{{ missing }}', ctx)).toBeNull();
    expect(evaluateJinja('{{ {"a": {"b": 1}} }}', ctx)).toEqual({ a: { b: 1 } });
  });

  it('renders to a string when there is surrounding text, several expressions or blocks', () => {
    expect(evaluateJinja('n={{ trigger.list | length }}', ctx)).toBe('n=2');
    expect(evaluateJinja('{{ 1 }}{{ 2 }}', ctx)).toBe('12');
    expect(evaluateJinja('{% for x in trigger.list %}{{ x }}{% endfor %}', ctx)).toBe('12');
  });

  it('returns non-Jinja strings as they are', () => {
    expect(evaluateJinja('just text', ctx)).toBe('just text');
  });
});

describe('hasJinja and findTemplateVariables', () => {
  it('detects expressions and blocks but not plain braces', () => {
    expect(hasJinja('{{ x }}')).toBe(true);
    expect(hasJinja('{% if x %}y{% endif %}')).toBe(true);
    expect(hasJinja('{ "json": 1 }')).toBe(false);
    expect(hasJinja('no template')).toBe(false);
  });

  it('finds top-level names but not filters, attributes, loop or set variables', () => {
    const names = findTemplateVariables(
      '{{ a }} {{ b.c | default(d) }}{% for i in e %}{{ i }}{% endfor %}{% set z = 1 %}{{ z }}{{ f is defined }}',
    );
    expect([...names].sort()).toEqual(['a', 'b', 'd', 'e', 'f']);
  });
});

describe('bounds on one render (issue 18 item 2)', () => {
  it('stops a loop that runs past its deadline', () => {
    const loop = '{% for i in range(100000) %}{% for j in range(100000) %}{{ j }}{% endfor %}{% endfor %}';
    expect(() => renderTemplate(loop, {}, { deadline: Date.now() - 1 })).toThrow(
      /rendering took longer than its time limit/,
    );
  });

  it('refuses a range() over the item limit and keeps Python range semantics below it', () => {
    expect(() => renderTemplate('{% for i in range(10**9) %}{% endfor %}', {})).toThrow(
      /range\(\) of 1000000000 items is over the limit of 100000/,
    );
    expect(renderTemplate('{% for i in range(2, 10, 3) %}{{ i }},{% endfor %}{{ range(3) }}', {})).toBe(
      '2,5,8,[0, 1, 2]',
    );
    expect(renderTemplate('{{ range(5, 0, -2) }}', {})).toBe('[5, 3, 1]');
  });

  it("prints a macro's output, `| safe` and `| escape` as the text they are, as Jinja2 prints Markup", () => {
    expect(renderTemplate('{% macro m(x) %}hi {{ x }}{% endmacro %}{{ m(1) }}', {})).toBe('hi 1');
    expect(renderTemplate('{{ "a" | safe }} {{ "<a>" | escape }}', {})).toBe('a &lt;a&gt;');
    expect(
      renderTemplate('{% macro m() %}<{{ caller() }}>{% endmacro %}{% call m() %}x{% endcall %}', {}),
    ).toBe('<x>');
  });

  it('a render error never quotes a value decrypt_kv opened, even cut short (JSON.parse quotes its input)', () => {
    const plain = 'plaintext-"SECRET"-42';
    const render = (template: string) => () =>
      renderTemplate(template, { s: 'ciphertext' }, { decrypt: () => plain, source: 'parameter "cmd"' });
    for (const template of ['{{ s | decrypt_kv | from_json_string }}', '{{ (s | decrypt_kv) ~ x.y.z() }}']) {
      let error: unknown;
      try {
        render(template)();
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(JinjaRenderError);
      const err = error as JinjaRenderError;
      expect(err.message).not.toMatch(/SECRET|plaintext/);
      expect(JSON.stringify(err.toJSON())).not.toMatch(/SECRET|plaintext/);
      expect(err.message).toContain('the reason is withheld');
    }
    // Without a secret the reason is given in full.
    expect(() => renderTemplate('{{ s | from_json_string }}', { s: 'plain' })).toThrow(/not valid JSON/);
  });
});
