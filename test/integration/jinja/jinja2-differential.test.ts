import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateJinja, renderTemplate } from '../../../src/workflows/expressions/jinja/index.js';
import { pythonAvailable, runPythonOracle } from '../../support/python-oracle.js';

// Squall's Jinja (nunjucks, patched) against Jinja2 itself: the oracle venv has orquesta's jinja2.

// `+` and `*`: Exchange workflows concatenate lists (`{{ ctx().records + [ item ] }}`), which
// nunjucks turned into a string.
const EXPRESSIONS = [
  '[1, 2] + [3]',
  "[ 'a' ] + ctx.records",
  'ctx.records + [ ctx.name ]',
  '[] + []',
  "'ab' + 'cd'",
  "ctx.name + '-suffix'",
  '1 + 2',
  '1 + 2.5',
  'true + 1',
  "'-' * 5",
  "3 * 'ab'",
  '[1, 2] * 2',
  '2 * [0]',
  "'x' * 0",
  "'x' * -2",
  '[1] * true',
  '2 * 3.5',
  "'a' + 1",
  "1 + 'a'",
  "[1] + 'a'",
  'none + 1',
  '{} + {}',
  "'x' * 2.5",
  "'x' * 'y'",
  '{} * 2',
];

// Whitespace control as st2 renders alias result formats (trim_blocks and lstrip_blocks on):
// `{%+` keeps a tag's indent, `+%}` the newline after it (st2's own aliases end loops with
// `{%+ endfor %}`).
const TEMPLATES = [
  'Found {{ ctx.records | length }}:\n{% for r in ctx.records -%}\n    * {{ r }}\n{%+ endfor %}\ndone',
  'Hosts:\n{% for r in ctx.records %}\n  {%+ if r %}[{{ r }}]{% endif %}\n{% endfor %}\n',
  '{% for r in ctx.records %}\n  {% if r %}<{{ r }}>{% endif %}\n{% endfor %}',
  '{% for r in ctx.records +%}\n{{ r }}\n{% endfor +%}\nend',
  '  {%+ if true %}kept{% endif %}',
  '\t{%+ if true -%}\n  x\n{%- endif +%}\n\ny',
  '{% if ctx.name +%}{{ ctx.name }}{% endif +%}',
];

const DATA = { ctx: { records: ['r1', 'r2'], name: 'host' } };

const SCRIPT = String.raw`
import json, sys
from jinja2 import Environment
plain = Environment()
st2 = Environment(trim_blocks=True, lstrip_blocks=True)
req = json.load(sys.stdin)
def answer(fn):
    try:
        return {"ok": True, "value": fn()}
    except Exception as e:
        return {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
print(json.dumps({
    "expressions": {e: answer(lambda: plain.compile_expression(e)(**req["data"])) for e in req["expressions"]},
    "templates": {t: answer(lambda: st2.from_string(t).render(**req["data"])) for t in req["templates"]},
}))
`;

type Answer = { ok: true; value: unknown } | { ok: false; error: string };

function ours(fn: () => unknown): Answer {
  try {
    return { ok: true, value: fn() };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

describe('Jinja against Python Jinja2', () => {
  let python: { expressions: Record<string, Answer>; templates: Record<string, Answer> };
  beforeAll(async () => {
    if (!pythonAvailable()) throw new Error('python3 is required for the Jinja2 oracle');
    python = (await runPythonOracle(SCRIPT, {
      expressions: EXPRESSIONS,
      templates: TEMPLATES,
      data: DATA,
    })) as typeof python;
  }, 600_000);

  it.each(EXPRESSIONS)('+ and *: %s', (expr) => {
    const py = python.expressions[expr];
    const js = ours(() => evaluateJinja(`{{ ${expr} }}`, DATA));
    if (py.ok) {
      expect(js).toEqual(py);
    } else {
      // Python's TypeError, with Python's words.
      expect(py.error).toMatch(/^TypeError: /);
      expect(js.ok).toBe(false);
      expect(js.ok ? '' : js.error).toContain(py.error.replace(/^TypeError: /, ''));
    }
  });

  it.each(TEMPLATES)('whitespace control: %j', (template) => {
    const py = python.templates[template];
    expect(py.ok).toBe(true);
    expect(ours(() => renderTemplate(template, DATA))).toEqual(py);
  });
});
