import { describe, expect, it } from 'vitest';
import {
  OPERATORS,
  OPERATOR_NAMES,
  evaluateCriteria,
  lookupPayloadKey,
  type Criteria,
} from '../../../src/rules/criteria/index.js';
import { runBoundedAsync } from '../../support/bounded.js';

const NOW = new Date('2024-05-01T12:00:00Z');

function check(operator: string, value: unknown, pattern: unknown): { matched: boolean; error?: string } {
  const payload = value === undefined ? {} : { f: value };
  const verdict = evaluateCriteria({ 'trigger.f': { type: operator, pattern } }, payload, { now: NOW });
  return { matched: verdict.matched, error: verdict.results[0].error };
}

// [operator or alias, matching value, pattern, non-matching value]
const TABLE: Array<[string, unknown, unknown, unknown]> = [
  ['equals', 'abc', 'abc', 'abd'],
  ['eq', 5, 5, 6],
  ['nequals', 'abc', 'xyz', 'xyz'],
  ['neq', 1, 2, 2],
  ['iequals', 'ABC', 'abc', 'abd'],
  ['ieq', 'Abc', 'aBC', 'x'],
  ['contains', 'hello world', 'lo w', 'goodbye'],
  ['ncontains', 'hello', 'xyz', 'xyz and more'],
  ['icontains', 'Hello World', 'WORLD', 'nope'],
  ['incontains', 'Hello', 'XYZ', 'xyzzy'],
  ['startswith', 'prefix-rest', 'prefix', 'rest-prefix'],
  ['istartswith', 'PREFIX-rest', 'prefix', 'rest'],
  ['endswith', 'file.txt', '.txt', 'file.csv'],
  ['iendswith', 'FILE.TXT', '.txt', 'file.csv'],
  ['lessthan', 3, 5, 7],
  ['lt', 'a', 'b', 'c'],
  ['greaterthan', 7, 5, 3],
  ['gt', 2.5, 2, 1],
  ['matchwildcard', 'server-01.prod', 'server-??.*', 'db-01.prod'],
  ['regex', 'error: disk full', 'disk\\s+full', 'all good'],
  ['iregex', 'ERROR here', 'error', 'fine'],
  ['matchregex', 'ab\ncd', 'ab.cd', 'xab\ncd'],
  ['timediff_lt', '2024-05-01T11:59:30Z', 60, '2024-05-01T11:00:00Z'],
  ['td_lt', '2024-05-01 11:59:30', 60, '2024-04-01 00:00:00'],
  ['timediff_gt', '2024-05-01T11:00:00+00:00', 60, '2024-05-01T11:59:59Z'],
  ['td_gt', '2024-04-30T12:00:00.123456', 3600, '2024-05-01T12:00:00'],
  ['inside', 'b', ['a', 'b'], 'z'],
  ['in', 'ell', 'hello', 'xyz'],
  ['ninside', 'z', ['a', 'b'], 'a'],
  ['nin', 3, [1, 2], 1],
];

describe('criteria operators: match / no match / missing key / null pattern', () => {
  it.each(TABLE)('%s matches and does not match', (op, good, pattern, bad) => {
    expect(check(op, good, pattern)).toEqual({ matched: true, error: undefined });
    expect(check(op, bad, pattern).matched).toBe(false);
  });

  // A missing key is None: `None != pattern` and `None not in [..]` are true in Python, every
  // other operator is false (or a TypeError, which never matches).
  const MATCH_ON_MISSING = new Set(['nequals', 'neq', 'ninside', 'nin']);
  it.each(TABLE)('%s: missing key', (op, _good, pattern) => {
    expect(check(op, undefined, pattern).matched).toBe(MATCH_ON_MISSING.has(op));
  });

  it.each(TABLE)('%s: pattern null', (op, good) => {
    const res = check(op, good, null);
    // st2: every operator but nequals returns False for a None pattern; nequals compares.
    expect(res.matched).toBe(op === 'nequals' || op === 'neq');
    expect(res.error).toBeUndefined();
  });

  it('exists and nexists look only at presence', () => {
    expect(check('exists', 'x', null).matched).toBe(true);
    expect(check('exists', 0, undefined).matched).toBe(true);
    expect(check('exists', undefined, null).matched).toBe(false);
    expect(check('exists', null, null).matched).toBe(false);
    expect(check('nexists', undefined, null).matched).toBe(true);
    expect(check('nexists', 'x', 'anything').matched).toBe(false);
  });

  it('operator names are case-insensitive', () => {
    expect(check('EQUALS', 'a', 'a').matched).toBe(true);
    expect(check('IContains', 'Abc', 'b').matched).toBe(true);
  });

  it('equals compares with Python semantics (types matter, True == 1, deep equality)', () => {
    expect(check('equals', '5', 5).matched).toBe(false);
    expect(check('equals', true, 1).matched).toBe(true);
    expect(check('equals', { a: [1, 2] }, { a: [1, 2] }).matched).toBe(true);
    expect(check('equals', [1, 2], [2, 1]).matched).toBe(false);
  });

  it('contains works on lists and dict keys', () => {
    expect(check('contains', ['a', 'b'], 'b').matched).toBe(true);
    expect(check('contains', { key: 1 }, 'key').matched).toBe(true);
    expect(check('ncontains', ['a', 'b'], 'c').matched).toBe(true);
  });

  it("regex criteria keep Python's semantics on the linear-time engine", () => {
    // Python: `$` also matches before a final newline, `\Z` only at the very end.
    expect(check('regex', 'abc\n', 'abc$').matched).toBe(true);
    expect(check('regex', 'abc\n', 'abc\\Z').matched).toBe(false);
    expect(check('regex', 'abc', 'abc\\Z').matched).toBe(true);
    expect(check('regex', 'xab', '(?P<first>a)b').matched).toBe(true);
    expect(check('regex', 'ABC', '(?i)abc').matched).toBe(true);
    expect(check('matchregex', 'xab', 'ab').matched).toBe(false);
    // Features RE2 lacks still work, on V8's engine.
    expect(check('regex', 'aa', '(a)\\1').matched).toBe(true);
    expect(check('regex', 'ab', 'a(?=b)').matched).toBe(true);
    expect(check('regex', 'abc', '(').error).toMatch(/Invalid regular expression/);
  });

  it('a pattern with nested quantifiers on a crafted payload is answered, not backtracked for hours', async () => {
    // 2^50 steps on a backtracking engine: run apart, so that a regression fails instead of hanging.
    const out = await runBoundedAsync(
      `import { evaluateCriteria } from './src/rules/criteria/index.ts';
      const payload = 'a'.repeat(50) + '!';
      const check = (type, value, pattern) => evaluateCriteria({ 'trigger.f': { type, pattern } }, { f: value }).matched;
      console.log(JSON.stringify([
        check('regex', payload, '(a+)+$'),
        check('iregex', payload.toUpperCase(), '(a+)+$'),
        check('matchregex', payload, '(a|aa)+$'),
        check('regex', 'aaaa', '(a+)+$'),
      ]));`,
      60_000,
      false,
    );
    expect(JSON.parse(out)).toEqual([false, false, false, true]);
  }, 75_000);

  it('a lookaround or back-reference around nested repeats is stopped at the time budget, with the service flag', async () => {
    // No linear engine runs these, and V8's backtrack limit cannot move them: 2^40 steps before.
    const out = await runBoundedAsync(
      `import { evaluateCriteria } from './src/rules/criteria/index.ts';
      const payload = 'a'.repeat(40) + '!';
      const check = (type, value, pattern) => {
        const started = process.cpuUsage();
        const r = evaluateCriteria({ 'trigger.f': { type, pattern } }, { f: value }).results[0];
        const u = process.cpuUsage(started);
        return { matched: r.matched, error: r.error ?? null, ms: (u.user + u.system) / 1000 };
      };
      console.log(JSON.stringify([
        check('regex', payload, '(?=a)(a+)+$'),
        check('matchregex', payload, '(a+)+\\\\1$'),
        check('iregex', payload, '(a|a)+(?!b)$'),
        check('regex', 'ab', 'a(?=b)'),
      ]));`,
      30_000,
    );
    const [lookahead, backref, ignoreCase, ordinary] = JSON.parse(out) as Array<{
      matched: boolean;
      error: string | null;
      ms: number;
    }>;
    for (const r of [lookahead, backref, ignoreCase]) {
      expect(r.matched).toBe(false);
      expect(r.error).toMatch(/took longer than 200 ms on a text of 41 characters and was stopped/);
      expect(r.ms).toBeLessThan(2_000);
    }
    expect(ordinary).toMatchObject({ matched: true, error: null });
  }, 45_000);

  it('a Python TypeError is an error result, not a match and not a throw', () => {
    const lt = check('lessthan', 'abc', 5);
    expect(lt.matched).toBe(false);
    expect(lt.error).toMatch(/'<' not supported between instances of 'str' and 'int'/);
    expect(check('contains', null, 'x').error).toMatch(/NoneType/);
    expect(check('regex', 5, 'x').error).toMatch(/expected string/);
    expect(check('timediff_lt', 'not a date', 5).error).toMatch(/Unknown string format/);
  });

  it('timediff takes its seconds as st2 does, float(pattern): "10" as st2web sends it is 10 seconds', () => {
    const now = new Date('2024-05-01T12:00:00Z');
    const at = (op: string, value: string, pattern: unknown) =>
      evaluateCriteria({ 'trigger.t': { type: op, pattern } }, { t: value }, { now });
    expect(at('timediff_lt', '2024-05-01T11:59:55Z', '10').matched).toBe(true);
    expect(at('timediff_lt', '2024-05-01T11:59:30Z', '10').matched).toBe(false);
    expect(at('timediff_gt', '2024-05-01T11:59:30Z', ' 10.5 ').matched).toBe(true);
    expect(at('timediff_gt', '2024-05-01T11:59:55Z', '1e1').matched).toBe(false);
    // Compared as text, "10" would sort after 5 seconds and before 30 the other way round.
    expect(at('timediff_lt', '2024-05-01T11:59:50Z', '100').matched).toBe(true);
    const bad = at('timediff_lt', '2024-05-01T11:59:55Z', 'ten');
    expect(bad.matched).toBe(false);
    expect(bad.failed?.reason).toMatch(/could not convert string to float: 'ten'/);
  });

  it('an unknown operator is an error result naming the operator', () => {
    const verdict = evaluateCriteria({ 'trigger.f': { type: 'resembles', pattern: 'x' } }, { f: 'x' });
    expect(verdict.matched).toBe(false);
    expect(verdict.results[0].error).toMatch(/Invalid operator: resembles/);
    expect(verdict.failed?.reason).toMatch(/resembles/);
  });

  it('OPERATORS lists every operator and alias from st2', () => {
    const expected = [
      'equals',
      'eq',
      'nequals',
      'neq',
      'iequals',
      'ieq',
      'contains',
      'ncontains',
      'icontains',
      'incontains',
      'startswith',
      'istartswith',
      'endswith',
      'iendswith',
      'lessthan',
      'lt',
      'greaterthan',
      'gt',
      'matchwildcard',
      'regex',
      'iregex',
      'matchregex',
      'timediff_lt',
      'td_lt',
      'timediff_gt',
      'td_gt',
      'exists',
      'nexists',
      'inside',
      'in',
      'ninside',
      'nin',
      'search',
    ];
    expect([...OPERATOR_NAMES].sort()).toEqual(expected.sort());
    expect(OPERATORS.find((o) => o.name === 'timediff_lt')?.aliases).toEqual(['td_lt']);
    expect(OPERATORS.find((o) => o.name === 'exists')?.usesPattern).toBe(false);
  });
});

describe('search operator', () => {
  const payload = {
    fields: [
      { field_name: 'Status', to_value: 'Approved' },
      { field_name: 'Assignee', to_value: 'Stanley' },
    ],
  };
  const pattern = {
    'item.field_name': { type: 'equals', pattern: 'Status' },
    'item.to_value': { type: 'equals', pattern: 'Approved' },
  };
  const run = (condition: string, p: unknown = pattern, data: unknown = payload) =>
    evaluateCriteria({ 'trigger.fields': { type: 'search', condition, pattern: p } }, data);

  it('any: some item matches all child criteria', () => {
    expect(run('any').matched).toBe(true);
    expect(run('any', { ...pattern, 'item.to_value': { type: 'equals', pattern: 'Stanley' } }).matched).toBe(
      false,
    );
  });

  it('all: every item matches all child criteria', () => {
    expect(run('all').matched).toBe(false);
    expect(run('all', { 'item.to_value': { type: 'regex', pattern: '^[A-Z]' } }).matched).toBe(true);
  });

  it('any2any: some item matches some criterion', () => {
    const p = {
      'item.field_name': { type: 'equals', pattern: 'Nope' },
      'item.to_value': { type: 'equals', pattern: 'Stanley' },
    };
    expect(run('any2any', p).matched).toBe(true);
    expect(run('any', p).matched).toBe(false);
    expect(run('any2any', { 'item.field_name': { type: 'equals', pattern: 'Nope' } }).matched).toBe(false);
  });

  it('all2any: every item matches at least one criterion', () => {
    const p = {
      'item.field_name': { type: 'equals', pattern: 'Status' },
      'item.to_value': { type: 'equals', pattern: 'Stanley' },
    };
    expect(run('all2any', p).matched).toBe(true);
    expect(run('all', p).matched).toBe(false);
    expect(run('all2any', { 'item.field_name': { type: 'equals', pattern: 'Status' } }).matched).toBe(false);
  });

  it('treats a dict value as a one-element list', () => {
    expect(run('any', pattern, { fields: { field_name: 'Status', to_value: 'Approved' } }).matched).toBe(
      true,
    );
  });

  it('an unknown condition is an error result', () => {
    const v = run('most');
    expect(v.matched).toBe(false);
    expect(v.results[0].error).toMatch(/'most' search condition is not recognized/);
  });

  it('a value that is not a list is an error result', () => {
    expect(run('any', pattern, { fields: 'text' }).results[0].error).toMatch(/must be a list/);
  });

  it('renders child patterns with the item in context', () => {
    const data = {
      fields: [
        { a: 1, b: 1 },
        { a: 2, b: 3 },
      ],
    };
    expect(run('all', { 'item.a': { type: 'equals', pattern: '{{ item.b }}' } }, data).matched).toBe(false);
    expect(run('any', { 'item.a': { type: 'equals', pattern: '{{ item.b }}' } }, data).matched).toBe(true);
  });
});

describe('payload key lookup', () => {
  const payload = {
    a: { b: 'deep' },
    headers: { 'X-Custom': 'yes' },
    body: { items: ['first', 'second'] },
    level: 3,
    zero: 0,
  };

  it.each([
    ['trigger.a.b', 'deep'],
    ["trigger.headers['X-Custom']", 'yes'],
    ['trigger.headers["X-Custom"]', 'yes'],
    ['trigger.body.items[0]', 'first'],
    ['trigger.body.items[1]', 'second'],
    ['trigger.level#1', 3],
    ['trigger.level#second', 3],
    ['trigger.zero', 0],
    ['trigger.a.missing', null],
    ['trigger.body.items[5]', null],
    ['trigger.nope.deeper', null],
  ])('%s', (key, expected) => {
    expect(lookupPayloadKey(payload, key)).toEqual(expected);
  });

  it('uses #suffix keys to test one field with several operators', () => {
    const criteria: Criteria = {
      'trigger.level#low': { type: 'gt', pattern: 1 },
      'trigger.level#high': { type: 'lt', pattern: 5 },
    };
    expect(evaluateCriteria(criteria, payload).matched).toBe(true);
    expect(
      evaluateCriteria({ ...criteria, 'trigger.level#mid': { type: 'equals', pattern: 4 } }, payload).matched,
    ).toBe(false);
  });
});

describe('pattern rendering', () => {
  it('keeps the type of a single {{ }} pattern', () => {
    const payload = { count: 5, expected: 5, tags: ['a', 'b'], flag: true };
    expect(
      evaluateCriteria({ 'trigger.count': { type: 'equals', pattern: '{{ trigger.expected }}' } }, payload)
        .matched,
    ).toBe(true);
    expect(
      evaluateCriteria({ 'trigger.count': { type: 'lt', pattern: '{{ 2 * 5 }}' } }, payload).matched,
    ).toBe(true);
    expect(
      evaluateCriteria({ 'trigger.tags': { type: 'equals', pattern: "{{ ['a', 'b'] }}" } }, payload).matched,
    ).toBe(true);
    expect(
      evaluateCriteria({ 'trigger.flag': { type: 'equals', pattern: '{{ True }}' } }, payload).matched,
    ).toBe(true);
  });

  it('renders mixed text to a string', () => {
    const v = evaluateCriteria(
      { 'trigger.name': { type: 'equals', pattern: 'host-{{ trigger.n }}' } },
      { name: 'host-3', n: 3 },
    );
    expect(v.matched).toBe(true);
    expect(v.results[0].pattern).toBe('host-3');
  });

  it('reads the system context (st2kv)', () => {
    const v = evaluateCriteria(
      { 'trigger.env': { type: 'equals', pattern: '{{ st2kv.system.env }}' } },
      { env: 'prod' },
      { context: { st2kv: { system: { env: 'prod' } } } },
    );
    expect(v.matched).toBe(true);
  });

  it('a render failure is an error result naming the criterion', () => {
    const v = evaluateCriteria(
      { 'trigger.x': { type: 'equals', pattern: '{{ trigger.x | nope }}' } },
      { x: 1 },
    );
    expect(v.matched).toBe(false);
    expect(v.results[0].error).toMatch(/Failed to render pattern of criterion "trigger.x"/);
  });
});

describe('verdict', () => {
  it('reports the first failing criterion and stops there like st2', () => {
    const v = evaluateCriteria(
      {
        'trigger.a': { type: 'equals', pattern: 1 },
        'trigger.b': { type: 'equals', pattern: 'x' },
        'trigger.c': { type: 'equals', pattern: 'y' },
      },
      { a: 1, b: 'no', c: 'no' },
    );
    expect(v.matched).toBe(false);
    expect(v.results).toHaveLength(2);
    expect(v.failed).toMatchObject({ key: 'trigger.b', operator: 'equals', pattern: 'x', value: 'no' });
    expect(v.failed?.reason).toContain("'no'");
  });

  it('evaluates every criterion when asked (rule tester)', () => {
    const v = evaluateCriteria(
      { 'trigger.a': { type: 'eq', pattern: 2 }, 'trigger.b': { type: 'eq', pattern: 2 } },
      { a: 1, b: 2 },
      { evaluateAll: true },
    );
    expect(v.results.map((r) => r.matched)).toEqual([false, true]);
    expect(v.failed?.key).toBe('trigger.a');
    expect(v.results[0].operator).toBe('equals');
  });

  it('matches when there are no criteria', () => {
    expect(evaluateCriteria({}, { a: 1 })).toEqual({ matched: true, results: [] });
    expect(evaluateCriteria(undefined, { a: 1 }).matched).toBe(true);
  });
});
