import { resolve } from 'node:path';
import { expect, it } from 'vitest';
import { BUNDLED_PACKS_DIR, loadPacks } from '../../../src/content/index.js';

// `idempotent: true` (Squall extension) is what lets crash recovery run an action again instead of
// abandoning it; the action schema used to refuse the field, so no pack could declare it.
it('loads `idempotent: true` from an action file and leaves other actions without it', async () => {
  const result = await loadPacks([
    resolve(BUNDLED_PACKS_DIR, 'core'),
    resolve('test/reliability/fixtures/reliability'),
  ]);
  expect(result.problems.filter((p) => p.severity === 'error')).toEqual([]);
  const pack = result.packs.find((p) => p.ref === 'reliability')!;
  const byName = new Map(pack.actions.map((a) => [a.name, a as { idempotent?: boolean }]));
  expect(byName.get('record_run_idempotent')?.idempotent).toBe(true);
  expect(byName.get('record_run')?.idempotent).toBeUndefined();
});
