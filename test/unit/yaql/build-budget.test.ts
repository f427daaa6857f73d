import { describe, expect, it } from 'vitest';
import { evaluateYaql } from '../../../src/workflows/expressions/yaql/index.js';
import { runBoundedAsync } from '../../support/bounded.js';

// Orquesta evaluates `<% %>` synchronously in the service's process. YAQL bounded one repetition
// (`'x' * n`) but nothing else: these built gigabytes or ran for hours from a few characters,
// and the heap limit then killed the whole service (measured with a 1.5 GB heap: the list
// expansions died out of memory, join() held the thread 14 s, concat() took 721 MB).
const amplifiers = [
  "range(1000000).select('x' * 1000).join('')",
  "range(100000).select(str($)).join('x' * 10000)",
  "concat('x' * 60000000, 'x' * 60000000, 'x' * 60000000)",
  "('a' * 1000).replace('', 'y' * 1000).replace('', 'z' * 100)",
  "('aaaa' * 1000).replace(regex('a'), 'y' * 100000)",
  'str([range(1000000).toList()] * 1000)',
  'range(1000).select(range(1000000).toList())',
  'range(1000).select(range(1000000))',
  '[range(1000000).toList()] * 1000000',
  "range(1000).select('x' * 60000000)",
  'range(30).aggregate($1 + $1, [1])',
  "range(40).aggregate($1 + $1, 'x').toUpper()",
  "range(1000).select(('x' * 1000000).toUpper())",
  // Time, not memory: a million sums of a million, and quadratic de-duplication.
  'range(1000000).select(range(1000000).sum())',
  'range(1000000).toSet().len()',
];

describe('what one YAQL evaluation may build, and for how long', () => {
  it('refuses every amplifying expression with a 400 naming the operation, in a process that survives it', async () => {
    // In a child: without the bounds it dies out of memory or is killed by the timeout.
    const out = await runBoundedAsync(
      `import { evaluateYaql } from './src/workflows/expressions/yaql/index.ts';
       const rows = [];
       for (const e of ${JSON.stringify(amplifiers)}) {
         const t = Date.now();
         try { evaluateYaql(e, { data: {}, deadline: Date.now() + 3000 }); rows.push('evaluated'); }
         catch (err) { rows.push([err.code, err.status, err.context?.kind ?? null, err.message.split('could not be evaluated: ')[1] ?? err.message, Date.now() - t]); }
       }
       console.log(JSON.stringify(rows));`,
      150_000,
    );
    const rows = JSON.parse(out) as Array<[string, number, string, string, number]>;
    expect(rows).toHaveLength(amplifiers.length);
    for (const [i, row] of rows.entries()) {
      expect(row, amplifiers[i]).not.toBe('evaluated');
      expect(row[0], amplifiers[i]).toBe('YAQL_EVAL');
      expect(row[1], amplifiers[i]).toBe(400);
      // Some stop on size or on time, whichever comes first on the machine; the last two only on time.
      expect(row[2], amplifiers[i]).toMatch(i >= 13 ? /^TimeoutError$/ : /^(MemoryError|TimeoutError)$/);
      expect(row[4], amplifiers[i]).toBeLessThan(6_000);
    }
    expect(rows[0][3]).toMatch(/would build .* more than one render may build \(67,108,864\)/);
    expect(rows[1][3]).toMatch(/^join\(\) would build 1,000,478,890 characters/);
    expect(rows[3][3]).toMatch(/^replace\(\) would build/);
    expect(rows[9][3]).toMatch(/^repeating a string 60000000 times would build/);
    expect(rows[11][3]).toMatch(/^the \+ operator was given 134,217,728 characters/);
    expect(rows[13][3]).toMatch(/took longer than its time limit/);
  }, 180_000);

  it('evaluates the same operations at the sizes workflows use, and passes large data through', () => {
    expect(evaluateYaql("range(3).select(str($)).join(', ')")).toBe('0, 1, 2');
    expect(evaluateYaql("concat('a', 'b') + ('-' * 3) + 'x'.replace('x', 'yy')")).toBe('ab---yy');
    expect(evaluateYaql('str([1, [2, 3]] * 2)')).toBe('(1, (2, 3), 1, (2, 3))');
    // A 60 MB stdout and a half-million-line list come back whole: data read is not built.
    const stdout = 'y'.repeat(60_000_000);
    expect((evaluateYaql('$.stdout', { data: { stdout } }) as string).length).toBe(60_000_000);
    const lines = Array.from({ length: 500_000 }, (_, i) => `line ${i} of the output, some text`);
    expect(evaluateYaql('$.lines', { data: { lines } })).toHaveLength(500_000);
    expect(evaluateYaql("$.lines.take(100000).where($.endsWith('text')).len()", { data: { lines } })).toBe(
      100_000,
    );
    expect(evaluateYaql('range(300000).select($ * 2).sum()')).toBe(89_999_700_000);
  }, 60_000);
});
