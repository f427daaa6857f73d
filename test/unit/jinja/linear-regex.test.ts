import { describe, expect, it } from 'vitest';
import { runBoundedAsync } from '../../support/bounded.js';
import {
  pyRegexEngine,
  pyRegexTest,
  renderTemplate,
} from '../../../src/workflows/expressions/jinja/index.js';

type Opts = { ignoreCase?: boolean; dotAll?: boolean; anchored?: boolean };

// [pattern, subject, options, what Python's re.search (re.match when anchored) answers]
const PYTHON: [string, string, Opts, boolean][] = [
  // `$` is the end or just before a final newline; `\Z` only the very end.
  ['abc$', 'abc\n', {}, true],
  ['abc$', 'abc\n\n', {}, false],
  ['abc\\Z', 'abc\n', {}, false],
  ['abc\\Z', 'abc', {}, true],
  ['x\\Z|y$', 'y\n', {}, true],
  ['colou?r$', 'color\n', {}, true],
  ['^\\Aab', 'ab', {}, true],
  // `.` excludes only `\n` (V8's excludes `\r` and the line separators too); DOTALL and (?s).
  ['^a.b$', 'a\rb', {}, true],
  ['^a.b$', 'a\u2028b', {}, true],
  ['^a.b$', 'a\nb', {}, false],
  ['^a.b$', 'a\nb', { dotAll: true }, true],
  ['(?s)^a.b$', 'a\nb', {}, true],
  // re.match is anchored at the start only.
  ['ab', 'xab', { anchored: true }, false],
  ['ab', 'abx', { anchored: true }, true],
  ['a|b', 'xb', { anchored: true }, false],
  ['ABC', 'xabc', { ignoreCase: true }, true],
  ['(?i)abc', 'ABC', {}, true],
  ['(?P<first>a)b', 'xab', {}, true],
  // Unicode: one character is one code point, in the pattern and in the text.
  ['a.b', 'a😀b', {}, true],
  ['^.$', '😀', {}, true],
  ['^é+$', 'éé', {}, true],
  ['^[^x]$', '😀', {}, true],
  ['\\x41\\u00e9', 'Aé', {}, true],
  // What neither linear engine runs still works, on V8's backtracking engine.
  ['(a)\\1', 'aa', {}, true],
  ['a(?=b)', 'ab', {}, true],
];

describe('pyRegexTest: Python re semantics on a linear-time engine', () => {
  it.each(PYTHON)('%j on %j %j is %s, as in Python', (pattern, subject, options, expected) => {
    expect(pyRegexTest(pattern, subject, options)).toBe(expected);
  });

  it("runs the common patterns on V8's linear engine, the rest on RE2, and backtracks only for what needs it", () => {
    expect(pyRegexEngine('^msg-12-\\d+$')).toBe('v8-linear');
    expect(pyRegexEngine('(?P<host>web-\\d+)\\.example\\.com\\Z', '', { dotAll: true, anchored: true })).toBe(
      'v8-linear',
    );
    expect(pyRegexEngine('(a+)+$')).toBe('v8-linear');
    // V8's linear engine has no ignore-case and no unicode mode: RE2 answers these.
    expect(pyRegexEngine('abc', '', { ignoreCase: true })).toBe('re2');
    expect(pyRegexEngine('(?i)abc')).toBe('re2');
    expect(pyRegexEngine('a.b', 'a😀b')).toBe('re2');
    // A `$` that something must follow and Python's {,n} go to RE2, as do counted repeats above
    // V8's limit (which depends on the V8 version). RE2 gives such a `$` no match before a final
    // newline: `(a$|b)\\n` misses "a\\n", as it did before.
    expect(pyRegexEngine('a$\\n')).toBe('re2');
    expect(pyRegexEngine('a{,3}')).toBe('re2');
    expect(pyRegexEngine('\\d{4}-\\d{2}')).toBe('v8-linear');
    expect(pyRegexEngine('a(?=b)')).toBe('v8-backtracking');
    expect(pyRegexEngine('(a)\\1')).toBe('v8-backtracking');
  });

  it('an invalid pattern is reported as before', () => {
    expect(() => pyRegexTest('(', 'x')).toThrow(/Invalid regular expression/);
  });

  it('answers nested quantifiers on crafted text in linear time on every engine route', async () => {
    // 2^50 steps and more on a backtracking engine: run apart without the service's V8 flag, so
    // that a regression fails (the child is killed) instead of hanging the test run.
    const out = await runBoundedAsync(
      `import { pyRegexEngine, pyRegexTest } from './src/workflows/expressions/jinja/index.ts';
      const evil = 'a'.repeat(50) + '!';
      const big = 'a'.repeat(200000) + '!';
      const cases = [
        ['(a+)+$', evil, {}],
        ['(a|aa)+$', evil, { anchored: true, dotAll: true }],
        ['(a+)+$', evil.toUpperCase(), { ignoreCase: true }],
        ['(a+)+$', evil + '😀', {}],
        ['(?:a*)*b', big, {}],
        ['(a|a)+\\\\Z', big, { ignoreCase: true }],
      ];
      console.log(JSON.stringify(cases.map(([p, s, o]) => [pyRegexEngine(p, s, o), pyRegexTest(p, s, o)])));`,
      30_000,
      false,
    );
    expect(JSON.parse(out)).toEqual([
      ['v8-linear', false],
      ['v8-linear', false],
      ['re2', false],
      ['re2', false],
      ['v8-linear', false],
      ['re2', false],
    ]);
  }, 45_000);
});

describe('regex_replace and regex_substring on the linear engine', () => {
  const r = (t: string, v: unknown) => renderTemplate(t, { v });

  it('keep Python re.sub / re.findall results', () => {
    expect(r(`{{ v | regex_replace('(?P<w>o)(x)?', '[\\\\g<w>\\\\2]') }}`, 'foo')).toBe('f[o][o]');
    expect(r(`{{ v | regex_substring('\\\\d+$') }}`, 'a1 22')).toBe('22');
    // `$` before a final newline: the text ends with one, so V8's backtracking engine answers.
    expect(r(`{{ v | regex_substring('\\\\d+$') }}`, 'a1 22\n')).toBe('22');
    expect(r(`{{ v | regex_replace('a.b', '-') }}`, 'a\rb a\nb')).toBe('- a\nb');
    expect(r(`{{ v | regex_substring('A+', 0, True) }}`, 'xaAx')).toBe('aA');
    expect(r(`{{ v | regex_replace('(?P<w>O)(x)?', '[\\g<w>\\2]', True) }}`, 'fOo')).toBe('f[O][o]');
    expect(r(`{{ v | regex_substring('(a)(b)?', 1, True) }}`, 'xAbyA')).toEqual("('A', '')");
    expect(r(`{{ v | regex_replace('x*', '-', True) }}`, 'abXd')).toBe('-a-b--d-');
    expect(r(`{{ v | regex_replace('(?<=a)b', 'B', True) }}`, 'abAb')).toBe('aBAB');
  });

  it('answer nested quantifiers on crafted text in linear time', async () => {
    const out = await runBoundedAsync(
      `import { renderTemplate } from './src/workflows/expressions/jinja/index.ts';
      const v = 'a'.repeat(50) + '!';
      console.log(renderTemplate("{{ v | regex_replace('(a+)+$', 'x') }} {{ v | regex_replace('(a|aa)+b', 'x') | length }}", { v }));
      console.log(renderTemplate("{{ v | regex_replace('(A+)+$', 'x', True) | length }} {{ v | regex_replace('(a|aa)+b', 'x', True) | length }}", { v }));
      try { renderTemplate("{{ v | regex_substring('(a+)+$') }}", { v }); } catch (e) { console.log('no match'); }`,
      30_000,
      false,
    );
    expect(out).toBe(`${'a'.repeat(50)}! 51\n51 51\nno match`);
  }, 45_000);

  it('stop a lookaround around nested repeats at the time budget, in Jinja and YAQL alike', async () => {
    // No linear engine runs a lookaround: 2^40 backtracking steps before, in a render that a
    // rule's parameters run on a webhook's body.
    const out = await runBoundedAsync(
      `import { renderTemplate } from './src/workflows/expressions/jinja/index.ts';
      import { evaluateYaql } from './src/workflows/expressions/yaql/index.ts';
      const v = 'a'.repeat(40) + '!';
      const tries = [
        () => renderTemplate("{{ v | regex_replace('(?=a)(a+)+$', 'x') }}", { v }),
        () => renderTemplate("{{ v | regex_substring('(a|a)+(?!b)$') }}", { v }),
        () => evaluateYaql("regex('(?=a)(a+)+$').replace($.v, 'x')", { data: { v } }),
      ];
      for (const t of tries) {
        const started = process.cpuUsage();
        let said;
        try { said = 'rendered ' + String(t()); } catch (e) { said = e.code + ': ' + e.message; }
        const u = process.cpuUsage(started);
        console.log(JSON.stringify({ said, ms: (u.user + u.system) / 1000 }));
      }
      console.log(renderTemplate("{{ v | regex_replace('a(?=b)', 'x') }}", { v: 'abab' }));`,
      30_000,
    );
    const lines = out.split('\n');
    expect(lines.pop()).toBe('xbxb');
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      const { said, ms } = JSON.parse(line) as { said: string; ms: number };
      expect(said).toMatch(/took longer than 200 ms on a text of 41 characters and was stopped/);
      expect(ms).toBeLessThan(2_000);
    }
  }, 45_000);
});
