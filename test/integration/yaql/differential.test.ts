import { beforeAll, describe, expect, it } from 'vitest';
import {
  evaluateYaql,
  YaqlEvaluationError,
  YaqlSyntaxError,
} from '../../../src/workflows/expressions/yaql/index.js';
import { evaluateYaqlWithOracle, type OracleAnswer, pythonAvailable } from '../../support/python-oracle.js';
import { CORPUS, DATA } from './corpus.js';

const HAVE_PYTHON = pythonAvailable();
const REQUIRE_ALL = process.env.SQUALL_REQUIRE_ALL === '1';

/** orquesta's ctx(): all variables but the private `__` ones, or one of them. */
function ctx(...args: unknown[]): unknown {
  const vars = DATA as Record<string, unknown>;
  if (args.length === 0 || args[0] === undefined || args[0] === null) {
    return Object.fromEntries(Object.entries(vars).filter(([k]) => !k.startsWith('__')));
  }
  const key = String(args[0]);
  if (!(key in vars)) throw new Error(`The variable "${key}" is undefined.`);
  if (key.startsWith('__')) throw new Error(`The variable "${key}" is inaccessible.`);
  return vars[key];
}

type Ours = { ok: true; value: unknown } | { ok: false; error: string };

function ours(expr: string): Ours {
  try {
    return { ok: true, value: evaluateYaql(expr, { data: DATA, functions: { ctx } }) };
  } catch (err) {
    if (err instanceof YaqlEvaluationError || err instanceof YaqlSyntaxError)
      return { ok: false, error: `${err.code}: ${err.message}` };
    throw err;
  }
}

/** Python's value (as the oracle encodes it) against ours: sets compare as multisets, 1.0 equals 1. */
function same(py: unknown, js: unknown): boolean {
  if (py !== null && typeof py === 'object' && !Array.isArray(py) && '$set' in py) {
    const items = (py as { $set: unknown[] }).$set;
    if (!Array.isArray(js) || js.length !== items.length) return false;
    const left = [...js];
    return items.every((p) => {
      const i = left.findIndex((j) => same(p, j));
      if (i < 0) return false;
      left.splice(i, 1);
      return true;
    });
  }
  if (Array.isArray(py))
    return Array.isArray(js) && js.length === py.length && py.every((p, i) => same(p, js[i]));
  if (py !== null && typeof py === 'object') {
    if (js === null || typeof js !== 'object' || Array.isArray(js)) return false;
    const pk = Object.keys(py);
    const jk = Object.keys(js);
    return (
      pk.length === jk.length &&
      pk.every((k) => k in js && same((py as Record<string, unknown>)[k], (js as Record<string, unknown>)[k]))
    );
  }
  return py === js;
}

const title = HAVE_PYTHON
  ? 'YAQL differential against Python yaql/orquesta'
  : 'YAQL differential against Python yaql/orquesta (SKIPPED: python3 is not installed)';

describe.skipIf(!HAVE_PYTHON && !REQUIRE_ALL)(title, () => {
  let answers: Map<string, OracleAnswer>;

  beforeAll(async () => {
    if (!HAVE_PYTHON) throw new Error('python3 is required for the YAQL oracle (SQUALL_REQUIRE_ALL=1)');
    answers = await evaluateYaqlWithOracle(CORPUS.map((expr) => ({ id: expr, expr, data: DATA })));
  }, 600_000);

  it('has a corpus of at least 300 distinct expressions', () => {
    expect(new Set(CORPUS).size).toBe(CORPUS.length);
    expect(CORPUS.length).toBeGreaterThanOrEqual(300);
  });

  it.each(CORPUS)('%s', (expr) => {
    const py = answers.get(expr);
    expect(py, 'the oracle answered').toBeDefined();
    const js = ours(expr);
    if (!py!.ok) {
      expect(js, `python failed with ${py!.error}`).toMatchObject({ ok: false });
      return;
    }
    expect(js.ok ? 'value' : js.error, 'python returned a value').toBe('value');
    if (!js.ok) return;
    if (!same(py!.value, js.value)) {
      expect(js.value).toEqual(py!.value);
    }
  });
});
