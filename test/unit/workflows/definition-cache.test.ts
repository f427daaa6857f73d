import { expect, it } from 'vitest';
import { DefinitionCache, MAX_DEFINITION_CHARS } from '../../../src/workflows/engine/definitions.js';
import type { WorkflowSpec } from '../../../src/workflows/orquesta/index.js';

const spec = {} as WorkflowSpec;
const text = (i: number, chars: number) => `# ${i}\n`.padEnd(chars, 'x');

it('keeps the newest definitions within a bound on their text, not only on their number', () => {
  const cache = new DefinitionCache();
  // 100 definitions of 1 MiB (each edit of a large workflow file is one more text).
  for (let i = 0; i < 100; i++) cache.set(text(i, 1024 * 1024), spec);
  expect(cache.weight).toBeLessThanOrEqual(MAX_DEFINITION_CHARS);
  expect(cache.size).toBe(8);
  expect(cache.get(text(99, 1024 * 1024))).toBe(spec);
  expect(cache.get(text(91, 1024 * 1024))).toBeUndefined();
  // One longer than the whole bound is not kept, and evicts nothing.
  cache.set('y'.repeat(MAX_DEFINITION_CHARS + 1), spec);
  expect(cache.size).toBe(8);
  // Small ones: 100 at most.
  const small = new DefinitionCache();
  for (let i = 0; i < 150; i++) small.set(text(i, 100), spec);
  expect([small.size, small.weight]).toEqual([100, 100 * 100]);
  expect(small.get(text(49, 100))).toBeUndefined();
  expect(small.get(text(50, 100))).toBe(spec);
});
