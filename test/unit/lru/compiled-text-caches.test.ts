import { describe, expect, it } from 'vitest';
import { runBoundedAsync } from '../../support/bounded.js';

/**
 * What is compiled from a text someone else writes is kept by its text: templates and regexes in
 * an execution's parameters (anyone who may run an action), inquiry schemas (anyone who may run
 * core.ask). Kept by count alone (2,000 templates, 10,000 patterns per option set), one user's
 * distinct long texts filled the heap: a 54 KB template holds ~3 MiB parsed, so 2,000 of them
 * 5.8 GiB, past the heap limit (the service dies). And an ajv keeps every schema it compiled, so
 * inquiry schemas grew the heap without any bound. Each case runs apart (a fresh heap, V8's
 * compilation cache off: it holds `new Function` code only until memory runs short) and reports
 * the heap growth after a full collection.
 */
const HEAP = `
import v8 from 'node:v8';
import vm from 'node:vm';
v8.setFlagsFromString('--expose-gc');
v8.setFlagsFromString('--no-compilation-cache');
const gc = vm.runInNewContext('gc');
const heap = () => { for (let i = 0; i < 4; i++) gc(); return process.memoryUsage().heapUsed; };
`;

async function growthMiB(imports: string, body: string): Promise<number> {
  const out = await runBoundedAsync(
    `${imports}\n${HEAP}\nconst before = heap();\n${body}\nconsole.log((heap() - before) / 2 ** 20);`,
    120_000,
    false,
  );
  return Number(out.split('\n').pop());
}

describe('caches of what is compiled from texts are bounded by the texts’ length', () => {
  it('60 distinct 54 KB templates (~3 MiB each parsed) keep well under what a count alone kept (180 MiB)', async () => {
    const mib = await growthMiB(
      `import { renderTemplate } from './src/workflows/expressions/jinja/index.ts';`,
      `const body = Array.from({ length: 6000 }, (_, j) => '{{x' + j + '}}').join('');
      for (let i = 0; i < 60; i++) renderTemplate(body + i, {});`,
    );
    expect(mib, `heap grew ${mib.toFixed(1)} MiB`).toBeLessThan(120);
  }, 150_000);

  it('400 distinct 24 KB regex patterns tested in templates keep well under a count alone (112 MiB)', async () => {
    const mib = await growthMiB(
      `import { pyRegexTest } from './src/workflows/expressions/jinja/index.ts';`,
      `for (let i = 0; i < 400; i++)
        pyRegexTest('(' + Array.from({ length: 3000 }, (_, j) => 'w' + i + 'x' + j).join('|') + ')', 'hello');`,
    );
    expect(mib, `heap grew ${mib.toFixed(1)} MiB`).toBeLessThan(70);
  }, 150_000);

  it('inquiry schemas checked one after another stop growing the heap (ajv kept every one)', async () => {
    const mib = await growthMiB(
      `import { validateResponse } from './src/inquiries/schema.ts';`,
      `for (let i = 0; i < 1200; i++) {
        const properties = {};
        for (let j = 0; j < 50; j++) properties['f' + i + '_' + j] = { type: 'string', pattern: '^[a-z]+$' };
        try { validateResponse({ type: 'object', properties }, {}, 'i' + i); } catch {}
      }`,
    );
    expect(mib, `heap grew ${mib.toFixed(1)} MiB`).toBeLessThan(60);
  }, 150_000);
});
