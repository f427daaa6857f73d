import { describe, expect, it } from 'vitest';
import { evaluateYaql } from '../../../src/workflows/expressions/yaql/index.js';
import { renderTemplate } from '../../../src/workflows/expressions/jinja/index.js';
import { runBoundedAsync } from '../../support/bounded.js';

// A live parameter is a template anyone who may run an action writes (chat `!sh` included). One
// that builds gigabytes from a few characters ran until the heap limit killed the whole service
// (`{{ 'x' | center(1000000000) }}`: 60 s of a frozen server, then out of memory).
const DOUBLE_NINE_TIMES = '{% set s = s ~ s %}'.repeat(9);

const amplifiers = [
  "{{ 'x' | center(1000000000) }}",
  "{{ 'x' | indent(1000000000, true) }}",
  '{{ [1] | slice(1000000000) }}',
  "{{ [1] | batch(1000000000, 'pad') }}",
  "{{ 'abc' | replace('', 'yyyyyyyyyyyyyyyy') | replace('', 'zzzzzzzzzzzzzzzz') | replace('', 'zzzzzzzzzzzzzzzz') | replace('', 'zzzzzzzzzzzzzzzz') | replace('', 'zzzzzzzzzzzzzzzz') | replace('', 'zzzzzzzzzzzzzzzz') }}",
  "{{ 'abcdefghijabcdefghij' | regex_replace('', 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz') | regex_replace('', 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz') | regex_replace('', 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz') | regex_replace('', 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz') | regex_replace('', 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz') }}",
  "{{ {'a': [1, 2, 3]} | to_json_string(indent=100000000) }}",
  "{{ {'a': [1, 2, 3]} | to_yaml_string(indent=100000000) }}",
  "{{ 'x'.padStart(1000000000) }}",
  "{{ 'x'.padEnd(1000000000) }}",
  "{{ 'ab'.repeat(300000000) }}",
  "{{ 'abc'.replace('', 'yyyyyyyyyyyyyyyyyyyyyyy').replace('', 'yyyyyyyyyyyyyyyyyyyyyyyyy').replace('', 'yyyyyyyyyyyyyyyyyyyyyyyyyy').replace('', 'yyyyyyyyyyyyyyyyyyyyyyyyyy').replace('', 'yyyyyyyyyyyyyyyyyyyy').replace('', 'yyyyyyyyyyyyyyyyyyyy') }}",
  "{{ ('x' * 1).join(range(100000)) }}{{ ('y'.repeat(1000)).join(range(100000)) }}",
  "{{ range(100000) | join('y'.repeat(1000)) }}",
  "{{ '{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}'.format('z'.repeat(10000000)) }}",
  // Each call fits alone; the render as a whole may not build that much.
  "{% for i in range(3000) %}{{ 'x'.repeat(30000) }}{% endfor %}",
  // Concatenation grows a string cheaply (up to V8's limit); working on it copies it whole.
  // (Unrolled: a `{% set %}` inside a loop stays in its iteration, as in Jinja2.)
  `{% set s = 'x'.repeat(1000000) %}${DOUBLE_NINE_TIMES}{{ s | upper | length }}`,
  `{% set s = 'x'.repeat(1000000) %}${DOUBLE_NINE_TIMES}{{ s.upper() | length }}`,
  `{% set s = 'x'.repeat(1000000) %}${DOUBLE_NINE_TIMES}{{ s }}`,
];

function refusal(template: string): { code?: string; cause?: string; message: string } {
  try {
    renderTemplate(template, {}, { deadline: Date.now() + 5_000 });
  } catch (err) {
    const e = err as { code?: string; message: string; context?: { cause?: { code?: string } } };
    return { code: e.code, cause: e.context?.cause?.code, message: e.message };
  }
  throw new Error(`rendered: ${template}`);
}

describe('what one render may build', () => {
  it('refuses every amplifying template with a 400 that names the operation, in a process that survives it', async () => {
    // In a child with a small heap: without the bound this is killed (out of memory or the timeout).
    const out = await runBoundedAsync(
      `import { renderTemplate } from './src/workflows/expressions/jinja/index.ts';
       const rows = [];
       for (const t of ${JSON.stringify(amplifiers)}) {
         try { renderTemplate(t, {}, { deadline: Date.now() + 5000 }); rows.push('rendered'); }
         catch (e) { rows.push([e.code, e.status, e.context?.cause?.code ?? null, e.message.split(': ').slice(1).join(': ')]); }
       }
       console.log(JSON.stringify(rows));`,
      100_000,
    );
    const rows = JSON.parse(out) as Array<[string, number, string | null, string]>;
    expect(rows).toHaveLength(amplifiers.length);
    for (const [i, row] of rows.entries()) {
      expect(row, amplifiers[i]).not.toBe('rendered');
      expect(row[0], amplifiers[i]).toBe('JINJA_RENDER');
      expect(row[1], amplifiers[i]).toBe(400);
    }
    expect(rows[0][2]).toBe('JINJA_TOO_LARGE');
    expect(rows[0][3]).toMatch(/the center filter would build 999,999,999 characters.*\(67,108,864\)/);
    expect(rows[8][3]).toMatch(/str\.padStart\(\) would build/);
    expect(rows[15][3]).toMatch(/str\.repeat\(\) would build 30,000 characters/);
    expect(rows[16][3]).toMatch(/the upper filter was given 512,000,000 characters/);
    expect(rows[18][3]).toMatch(/the output was given 512,000,000 characters/);
  }, 120_000);

  it('renders the same operations at sizes templates use', () => {
    const text = 'line one\nline two\n'.repeat(50_000);
    expect(renderTemplate("{{ 'x' | center(9) }}|{{ 'ab' | indent(2, true) }}", {})).toBe('    x    |  ab');
    expect(renderTemplate("{{ 'a-b'.replace('-', '--') }} {{ 'a-b' | replace('-', '+') }}", {})).toBe(
      'a--b a+b',
    );
    expect(
      renderTemplate("{{ '-'.join(['a', 'b']) }} {{ [1, 2] | join(', ') }} {{ 'x'.padStart(3, '.') }}", {}),
    ).toBe('a-b 1, 2 ..x');
    expect(renderTemplate("{{ '{0}:{1}'.format('a', 'b') }} {{ 'ab'.repeat(2) }}", {})).toBe('a:b abab');
    expect(renderTemplate("{{ {'a': [1]} | to_json_string(indent=2) }}", {})).toBe(
      '{\n  "a": [\n    1\n  ]\n}',
    );
    // Large data passes through and is worked on: only what an operation multiplies is counted.
    expect(renderTemplate("{{ text | replace('\\n', '<br>') | length }}", { text })).toBe(
      String(text.length + 300_000),
    );
    expect(renderTemplate('{{ text | indent(4) | length }}', { text })).toBe(
      String(text.length + 4 * 100_000),
    );
    expect(renderTemplate('{{ text }}', { text })).toHaveLength(text.length);
  });

  it('counts per render, not per process', () => {
    const loop = "{% for i in range(2000) %}{{ 'x'.repeat(30000) | length }}{% endfor %}";
    for (let i = 0; i < 3; i++) expect(renderTemplate(loop, {})).toHaveLength(2000 * 5);
    expect(refusal("{{ 'x' | center(1000000000) }}").cause).toBe('JINJA_TOO_LARGE');
  });

  it('bounds YAQL repetition too', () => {
    expect(evaluateYaql("'ab' * 3", {})).toBe('ababab');
    expect(evaluateYaql('[1, 2] * 2', {})).toEqual([1, 2, 1, 2]);
    expect(() => evaluateYaql('[1] * 1000000000', {})).toThrow(/repeating a sequence 1000000000 times/);
    expect(() => evaluateYaql("'x' * 500000000", {})).toThrow(/repeating a string 500000000 times/);
  });
});
