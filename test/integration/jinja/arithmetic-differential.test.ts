import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateJinja } from '../../../src/workflows/expressions/index.js';
import { pythonAvailable, runPythonOracle } from '../../support/python-oracle.js';

// Jinja's `+` and `*` as Jinja2 itself computes them (the oracle venv has orquesta's jinja2).
// Exchange workflows concatenate lists in Jinja (`{{ ctx().records + [ item ] }}`); nunjucks
// turned that into a string.
const CASES = [
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
const DATA = { ctx: { records: ['r1', 'r2'], name: 'host' } };

const SCRIPT = String.raw`
import json, sys
from jinja2 import Environment
env = Environment()
req = json.load(sys.stdin)
out = {}
for expr in req["cases"]:
    try:
        out[expr] = {"ok": True, "value": env.compile_expression(expr)(**req["data"])}
    except Exception as e:
        out[expr] = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
print(json.dumps(out))
`;

type Answer = { ok: true; value: unknown } | { ok: false; error: string };

describe('Jinja + and * against Python Jinja2', () => {
  let python: Record<string, Answer>;
  beforeAll(async () => {
    if (!pythonAvailable()) throw new Error('python3 is required for the Jinja2 oracle');
    python = (await runPythonOracle(SCRIPT, { cases: CASES, data: DATA })) as Record<string, Answer>;
  }, 600_000);

  it.each(CASES)('%s', (expr) => {
    const py = python[expr];
    let ours: Answer;
    try {
      ours = { ok: true, value: evaluateJinja(`{{ ${expr} }}`, DATA) };
    } catch (err) {
      ours = { ok: false, error: (err as Error).message };
    }
    if (py.ok) {
      expect(ours).toEqual(py);
    } else {
      // Python's TypeError, with Python's words.
      expect(py.error).toMatch(/^TypeError: /);
      expect(ours.ok).toBe(false);
      expect(ours.ok ? '' : ours.error).toContain(py.error.replace(/^TypeError: /, ''));
    }
  });
});
